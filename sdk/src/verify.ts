import { ComponentError, signatureBase } from "./base.js";
import { digestMatches } from "./digest.js";
import { TollgateVerificationError, type VerificationErrorCode } from "./errors.js";
import { type FetchLike, type Jwks, KeyFetchError, type KeySource, RemoteKeys, StaticKeys } from "./keys.js";
import { type VerifiableRequest, viewOf } from "./message.js";
import { MemoryReplayStore, type ReplayStore } from "./replay.js";
import { type Bytes, type InnerList, isInnerList, type Member, parseDictionary, Token } from "./structured.js";

/** The label and `tag` of Tollgate's signature. */
export const SIGNATURE_LABEL = "tollgate";

/** Components every Tollgate signature covers (plus `content-digest` when there is a body). */
export const REQUIRED_COMPONENTS = ["@method", "@authority", "@path", "@query", "tollgate-request-id", "tollgate-charge-context"] as const;

export type VerifyOptions = ({ jwksUrl: string; jwks?: undefined } | { jwks: Jwks; jwksUrl?: undefined }) & {
  /**
   * The id (`svc_…`) of your service, or several if one origin serves several. Required: a
   * genuine signature made for another service must not be accepted here.
   */
  serviceId: string | readonly string[];
  /** Where used nonces are remembered. Default: one in-memory store per process. */
  replayStore?: ReplayStore;
  /** Your origin's public `host[:port]`, when a proxy in front of it rewrites `Host`. */
  authority?: string;
  /** Tolerated clock difference with the gateway. Default 30. */
  clockSkewSeconds?: number;
  /** The oldest `created` accepted, whatever `expires` says. Default 60 (the gateway's lifetime). */
  maxAgeSeconds?: number;
  /** The current time in ms (tests). */
  now?: () => number;
  /** How the JWKS is fetched (default: global `fetch`). */
  fetch?: FetchLike;
};

/** What Tollgate says about a call it forwarded: the service, and the most it may cost. */
export type ChargeContext = {
  serviceId: string;
  /** The most this call may be charged, in micro-units of `currency` (1 USD = 1,000,000). */
  hold: number;
  currency: string;
  /** How the call is priced: `call` (a fixed price), `tokens`, `bytes`, `seconds` or `units`. */
  meter: string;
  /** True when you report usage later with POST /v1/usage and this request id. */
  deferred: boolean;
};

export type VerifiedRequest = {
  ok: true;
  /** Tollgate's id for the call: use it to report usage and to reconcile charges. */
  requestId: string;
  charge: ChargeContext;
  keyId: string;
  /** Unix seconds. */
  created: number;
  expires: number;
};

export type VerifyResult = VerifiedRequest | { ok: false; error: TollgateVerificationError };

const defaultReplayStore = new MemoryReplayStore();
const remoteKeys = new Map<string, RemoteKeys>();
const staticKeys = new WeakMap<Jwks, StaticKeys>();

class Reject extends Error {
  constructor(
    readonly code: VerificationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies that a request came from Tollgate, paid, unaltered and for the first time. In order:
 * the signature fields are present and well-formed; the body matches its `content-digest`; the
 * Ed25519 signature verifies with Tollgate's published key; it was made for this service; it is
 * within its time window; and its nonce is new. The nonce is consumed last, so a forged or stale
 * request can never use up the nonce of a genuine one.
 */
export async function verifyTollgateRequest(request: VerifiableRequest, options: VerifyOptions): Promise<VerifyResult> {
  try {
    return await verify(request, options);
  } catch (err) {
    if (err instanceof Reject) return { ok: false, error: new TollgateVerificationError(err.code, err.message) };
    if (err instanceof KeyFetchError) return { ok: false, error: new TollgateVerificationError("key_fetch_failed", err.message) };
    throw err;
  }
}

async function verify(request: VerifiableRequest, options: VerifyOptions): Promise<VerifiedRequest> {
  const now = options.now?.() ?? Date.now();
  const message = viewOf(request);

  // 1. Tollgate's signature is there and has every parameter Tollgate sets.
  const { input, signature } = labelled(message.header("signature-input"), message.header("signature"));
  const params = signatureParams(input);
  const covered = input.items.map((i) => i.value);
  for (const name of REQUIRED_COMPONENTS) {
    if (!covered.includes(name)) throw new Reject("insufficient_coverage", `the signature does not cover ${name}`);
  }
  if (new Set(covered.map(String)).size !== covered.length) throw new Reject("malformed_signature", "a component is covered twice");

  // 2. The body is the one signed; an uncovered body must be empty (or a body could be added).
  const body = await message.body();
  if (covered.includes("content-digest")) {
    const digest = message.header("content-digest");
    if (digest === null) throw new Reject("digest_mismatch", "content-digest is covered but missing");
    if (!(await digestMatches(digest, body))) throw new Reject("digest_mismatch", "the body does not match content-digest");
  } else if (body.byteLength > 0) {
    throw new Reject("digest_mismatch", "the request has a body but the signature covers no content-digest");
  }

  // 3. The signature verifies with one of Tollgate's keys.
  const keys = keySource(options);
  const key = await keys.get(params.keyid, now);
  if (!key) throw new Reject("unknown_key", `'${params.keyid}' is not one of Tollgate's published keys`);
  let base: string;
  try {
    base = signatureBase(message, input, options.authority);
  } catch (err) {
    if (err instanceof ComponentError) throw new Reject("malformed_signature", err.message);
    throw err;
  }
  const valid = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, new TextEncoder().encode(base));
  if (!valid) throw new Reject("bad_signature", "the signature does not verify");

  // 4. Made for this service (the header is signed, so it can be trusted from here on).
  const charge = chargeContext(message.header("tollgate-charge-context") ?? "");
  const services = typeof options.serviceId === "string" ? [options.serviceId] : options.serviceId;
  if (!services.includes(charge.serviceId)) throw new Reject("wrong_service", `the call was made to ${charge.serviceId}, not to this service`);

  // 5. Within its time window, allowing for clock skew.
  const skew = options.clockSkewSeconds ?? 30;
  const maxAge = options.maxAgeSeconds ?? 60;
  const seconds = Math.floor(now / 1000);
  if (params.created > seconds + skew) throw new Reject("not_yet_valid", "created is in the future");
  if (params.expires < seconds - skew) throw new Reject("expired", "the signature has expired");
  if (params.created < seconds - maxAge - skew) throw new Reject("stale", `created is more than ${maxAge} s ago`);

  // 6. First use of the nonce, remembered for as long as the signature could still be accepted.
  const acceptableUntil = (Math.min(params.expires, params.created + maxAge) + skew + 1) * 1000;
  const store = options.replayStore ?? defaultReplayStore;
  if (!(await store.consume(`${params.keyid}:${params.nonce}`, acceptableUntil, now))) {
    throw new Reject("replayed", "this signature's nonce was already used");
  }

  const requestId = message.header("tollgate-request-id") ?? "";
  return { ok: true, requestId, charge, keyId: params.keyid, created: params.created, expires: params.expires };
}

/** The `tollgate` members of `Signature-Input` and `Signature`. */
function labelled(inputField: string | null, signatureField: string | null): { input: InnerList; signature: Bytes } {
  if (inputField === null || signatureField === null) throw new Reject("missing_signature", "no Signature / Signature-Input fields");
  let inputs: Map<string, Member>;
  let signatures: Map<string, Member>;
  try {
    inputs = parseDictionary(inputField);
    signatures = parseDictionary(signatureField);
  } catch (err) {
    throw new Reject("malformed_signature", `unparsable signature fields: ${(err as Error).message}`);
  }
  const input = inputs.get(SIGNATURE_LABEL);
  const signature = signatures.get(SIGNATURE_LABEL);
  if (!input || !signature) throw new Reject("missing_signature", `no '${SIGNATURE_LABEL}' signature`);
  if (!isInnerList(input) || isInnerList(signature) || !(signature.value instanceof Uint8Array)) {
    throw new Reject("malformed_signature", "Signature-Input must hold an inner list and Signature a byte sequence");
  }
  return { input, signature: signature.value };
}

function signatureParams(input: InnerList): { created: number; expires: number; nonce: string; keyid: string } {
  const p = input.params;
  const created = p.get("created");
  const expires = p.get("expires");
  const nonce = p.get("nonce");
  const keyid = p.get("keyid");
  if (typeof created !== "number" || typeof expires !== "number" || !Number.isSafeInteger(created) || !Number.isSafeInteger(expires)) {
    throw new Reject("malformed_signature", "created and expires must be integers");
  }
  if (expires < created) throw new Reject("malformed_signature", "expires is before created");
  if (typeof nonce !== "string" || nonce.length < 16) throw new Reject("malformed_signature", "a nonce of at least 16 characters is required");
  if (typeof keyid !== "string" || keyid === "") throw new Reject("malformed_signature", "keyid is required");
  if (p.has("alg") && p.get("alg") !== "ed25519") throw new Reject("malformed_signature", "alg must be ed25519");
  if (p.get("tag") !== SIGNATURE_LABEL) throw new Reject("malformed_signature", `tag must be "${SIGNATURE_LABEL}"`);
  return { created, expires, nonce, keyid };
}

/** `tollgate-charge-context`: service="svc_…", hold=…, currency="…", meter=…, deferred=?0. */
function chargeContext(field: string): ChargeContext {
  let dict: Map<string, Member>;
  try {
    dict = parseDictionary(field);
  } catch {
    throw new Reject("malformed_signature", "tollgate-charge-context is not a structured dictionary");
  }
  const value = (key: string) => {
    const m = dict.get(key);
    return m && !isInnerList(m) ? m.value : undefined;
  };
  const serviceId = value("service");
  const hold = value("hold");
  const currency = value("currency");
  const meter = value("meter");
  const deferred = value("deferred");
  if (typeof serviceId !== "string" || typeof hold !== "number" || !Number.isSafeInteger(hold) || typeof currency !== "string") {
    throw new Reject("malformed_signature", "tollgate-charge-context lacks service, hold or currency");
  }
  return { serviceId, hold, currency, meter: meter instanceof Token ? meter.value : "call", deferred: deferred === true };
}

function keySource(options: VerifyOptions): KeySource {
  if (options.jwks) {
    const cached = staticKeys.get(options.jwks);
    if (cached) return cached;
    const keys = new StaticKeys(options.jwks);
    staticKeys.set(options.jwks, keys);
    return keys;
  }
  // One cache per JWKS URL in the process, so every request shares the fetched keys.
  const cached = remoteKeys.get(options.jwksUrl);
  if (cached) return cached;
  const keys = new RemoteKeys(options.jwksUrl, options.fetch);
  remoteKeys.set(options.jwksUrl, keys);
  return keys;
}
