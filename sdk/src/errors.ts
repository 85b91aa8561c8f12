/** Why a request was not accepted as a paid call from Tollgate. */
export type VerificationErrorCode =
  /** No `tollgate` signature on the request: it did not come through Tollgate. */
  | "missing_signature"
  /** Signature fields present but not well-formed, or a parameter Tollgate always sets is missing. */
  | "malformed_signature"
  /** The signature does not cover everything it must (method, authority, path, query, body, ids). */
  | "insufficient_coverage"
  /** The body is not the one that was signed. */
  | "digest_mismatch"
  /** The `keyid` is not one of Tollgate's published keys. */
  | "unknown_key"
  /** The signature does not verify: something covered was changed, or it was never Tollgate's. */
  | "bad_signature"
  /** A genuine signature for another service (configure `serviceId`). */
  | "wrong_service"
  /** `created` is in the future beyond the allowed clock skew. */
  | "not_yet_valid"
  /** `expires` has passed. */
  | "expired"
  /** `created` is older than `maxAgeSeconds`. */
  | "stale"
  /** This signature's nonce was already used: a replay. */
  | "replayed"
  /** Tollgate's keys could not be fetched (the origin should answer 503; the call is not charged). */
  | "key_fetch_failed";

/** The typed error `verifyTollgateRequest` returns; `status` is what the origin should answer. */
export class TollgateVerificationError extends Error {
  readonly status: 401 | 503;

  constructor(
    readonly code: VerificationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TollgateVerificationError";
    this.status = code === "key_fetch_failed" ? 503 : 401;
  }
}
