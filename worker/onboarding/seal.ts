import { sha256Hex } from "../../core/ids";

/**
 * A sign-up's provider key, kept for its retries without keeping a readable secret. The
 * Idempotency-Key the client chose is the only thing that opens it: D1 holds a digest of the key
 * to find the sign-up by (`lookupHash`) and the provider key sealed (AES-256-GCM) under another,
 * unrelated digest of it (`sealingKey`). The two digests are domain-separated, so the stored one
 * is no help in opening the seal.
 */
const LOOKUP = "tollgate/signup/lookup\u0000";
const SEAL = "tollgate/signup/seal\u0000";

/** What D1 stores to find a sign-up by its Idempotency-Key. */
export function lookupHash(idempotencyKey: string): Promise<string> {
  return sha256Hex(LOOKUP + idempotencyKey);
}

async function sealingKey(idempotencyKey: string): Promise<CryptoKey> {
  const raw = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(SEAL + idempotencyKey));
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** base64url(iv ‖ ciphertext): the provider key, readable only with the Idempotency-Key. */
export async function seal(idempotencyKey: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await sealingKey(idempotencyKey), new TextEncoder().encode(secret)));
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv);
  out.set(ct, iv.length);
  return toBase64Url(out);
}

/** The sealed secret, or null when `idempotencyKey` does not open it. */
export async function unseal(idempotencyKey: string, sealed: string): Promise<string | null> {
  const bytes = fromBase64Url(sealed);
  try {
    const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, await sealingKey(idempotencyKey), bytes.slice(12));
    return new TextDecoder().decode(pt);
  } catch {
    return null;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
