import { encodeBase64, encodeBase64Url } from "hono/utils/encode";
/**
 * RFC 9421 HTTP Message Signatures on forwarded requests, so an origin can tell a call came
 * through Tollgate and is paid (the SDK in sdk/ verifies them). Ed25519 over the method, the
 * origin's authority, path and query, the body's RFC 9530 `content-digest`, and Tollgate's own
 * request id and charge context; `created`/`expires` bound it in time and `nonce` makes each one
 * single-use. Pure apart from WebCrypto: time, nonce and key come from the caller.
 */
import type { Signer } from "./signing-keys";

const encoder = new TextEncoder();

/** The signature's label in `Signature` / `Signature-Input`, and its `tag` parameter. */
export const SIGNATURE_LABEL = "tollgate";
export const SIGNATURE_ALG = "ed25519";
/** How long a signature is accepted: long enough for transit and clock skew, short for replays. */
export const SIGNATURE_TTL_SECONDS = 60;

/** Covered components, in order. `content-digest` only when the request carries a body. */
export const COVERED_COMPONENTS = ["@method", "@authority", "@path", "@query", "content-digest", "tollgate-request-id", "tollgate-charge-context"] as const;

export type SignInput = {
  method: string;
  /** The URL the request is sent to (the origin's, not the gateway's). */
  url: string;
  /** Values of the covered `tollgate-*` fields, exactly as they are sent. */
  headers: { "tollgate-request-id": string; "tollgate-charge-context": string };
  /** The exact bytes forwarded; null when the request has no body (then no digest is covered). */
  body: ArrayBuffer | null;
  /** Unix seconds. */
  now: number;
  nonce: string;
  key: Signer;
  ttlSeconds?: number;
};

/** The headers to add to the forwarded request: `content-digest` (with a body), `signature-input`, `signature`. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const url = new URL(input.url);
  const added: Record<string, string> = {};
  if (input.body) added["content-digest"] = await contentDigest(input.body);
  const values: Record<(typeof COVERED_COMPONENTS)[number], string | undefined> = {
    // As sent, case and all (RFC 9421 §2.2.1); the runtime has already normalized the common methods.
    "@method": input.method,
    // WHATWG URL lowercases the host and drops a default port: RFC 9421 §2.2.3's normal form.
    "@authority": url.host,
    "@path": url.pathname || "/",
    // An absent (or empty) query is "?" (RFC 9421 §2.2.7).
    "@query": url.search || "?",
    "content-digest": added["content-digest"],
    ...input.headers,
  };
  const covered = COVERED_COMPONENTS.filter((name) => values[name] !== undefined);
  const created = Math.floor(input.now);
  const params =
    `(${covered.map((name) => sfString(name)).join(" ")})` +
    `;created=${created};expires=${created + (input.ttlSeconds ?? SIGNATURE_TTL_SECONDS)}` +
    `;nonce=${sfString(input.nonce)};keyid=${sfString(input.key.kid)};alg=${sfString(SIGNATURE_ALG)};tag=${sfString(SIGNATURE_LABEL)}`;
  const lines = covered.map((name) => `${sfString(name)}: ${fieldValue(values[name] as string)}`);
  lines.push(`"@signature-params": ${params}`);
  const base = encoder.encode(lines.join("\n"));
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, input.key.privateKey, base);
  added["signature-input"] = `${SIGNATURE_LABEL}=${params}`;
  added.signature = `${SIGNATURE_LABEL}=:${encodeBase64(signature)}:`;
  return added;
}

/** RFC 9530 `Content-Digest` with SHA-256. */
export async function contentDigest(body: ArrayBuffer): Promise<string> {
  return `sha-256=:${encodeBase64(await crypto.subtle.digest("SHA-256", body))}:`;
}

/** 128 random bits, base64url: a signature's single-use `nonce`. */
export function newNonce(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)).buffer).replace(/=+$/, "");
}

export type ChargeContext = { serviceId: string; hold: number; currency: string; meter: string; deferred: boolean };

/**
 * `tollgate-charge-context`, an RFC 8941 dictionary: the service called, the most this call may
 * cost (`hold`, micro-units of `currency`), how it is metered, and whether the origin must report
 * its usage later (`deferred`, via POST /v1/usage with the request id). Signed with the rest.
 */
export function chargeContextHeader(c: ChargeContext): string {
  return `service=${sfString(c.serviceId)}, hold=${c.hold}, currency=${sfString(c.currency)}, meter=${c.meter}, deferred=${c.deferred ? "?1" : "?0"}`;
}

/** An RFC 8941 sf-string. Only printable ASCII can be one; anything else here is a bug. */
function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`not an sf-string: ${JSON.stringify(value)}`);
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** A field's value in the signature base: trimmed, and no line break could reach the base (RFC 9421 §2.1). */
function fieldValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error("a covered value holds a line break");
  return value.trim();
}
