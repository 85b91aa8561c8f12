/**
 * The offer token carried in a 402 challenge's `extra.offer`: it binds the resource (method +
 * URL), amount, currency, service, expiry and a random nonce, signed by the gateway's Ed25519
 * key so a client cannot lower the amount or move the offer to another resource. Ed25519 (not an
 * HMAC) so any published key verifies it and key rotation needs no second secret.
 * Format: base64url(JSON claims) "." base64url(signature) ; the kid travels in the claims.
 */

export type OfferClaims = {
  kid: string;
  resource: string; // "METHOD URL"
  amount: string; // micro-units, integer string
  currency: string;
  service: string;
  exp: number; // unix seconds
  nonce: string;
};

export type OfferCheck = { ok: true; claims: OfferClaims } | { ok: false; reason: string };

const ED25519 = { name: "Ed25519" } as const;

export function newNonce(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(16)));
}

export async function signOffer(claims: OfferClaims, privateKey: CryptoKey): Promise<string> {
  const body = b64url(new TextEncoder().encode(JSON.stringify(claims)));
  const sig = await crypto.subtle.sign(ED25519, privateKey, new TextEncoder().encode(body));
  return `${body}.${b64url(new Uint8Array(sig))}`;
}

/** Verifies the signature (with the key named by `kid`) and the expiry; the caller compares the rest. */
export async function verifyOffer(token: unknown, publicKeys: Map<string, CryptoKey>, nowSeconds: number): Promise<OfferCheck> {
  if (typeof token !== "string") return { ok: false, reason: "The offer is missing." };
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined) return { ok: false, reason: "The offer is malformed." };
  let claims: OfferClaims;
  let signature: Uint8Array;
  try {
    claims = JSON.parse(new TextDecoder().decode(fromB64url(body)));
    signature = fromB64url(sig);
  } catch {
    return { ok: false, reason: "The offer is malformed." };
  }
  if (!isClaims(claims)) return { ok: false, reason: "The offer is malformed." };
  const key = publicKeys.get(claims.kid);
  if (!key) return { ok: false, reason: "The offer was signed by an unknown key." };
  const valid = await crypto.subtle.verify(ED25519, key, signature, new TextEncoder().encode(body));
  if (!valid) return { ok: false, reason: "The offer's signature is not valid." };
  if (claims.exp <= nowSeconds) return { ok: false, reason: "The offer has expired." };
  return { ok: true, claims };
}

function isClaims(c: unknown): c is OfferClaims {
  if (!c || typeof c !== "object") return false;
  const o = c as Record<string, unknown>;
  return (
    ["kid", "resource", "currency", "service", "nonce"].every((k) => typeof o[k] === "string") &&
    typeof o.amount === "string" &&
    /^(0|[1-9][0-9]*)$/.test(o.amount) &&
    Number.isSafeInteger(o.exp)
  );
}

/** base64url of a value's JSON (MPP's encoding for challenge requests, credentials and receipts). */
export function b64urlJson(value: unknown): string {
  return b64url(new TextEncoder().encode(JSON.stringify(value)));
}

/** The JSON a base64url text holds, or null when it is not base64url of JSON. */
export function fromB64urlJson(text: string): unknown | null {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromB64url(text)));
  } catch {
    return null;
  }
}

function b64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
