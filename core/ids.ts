import { bytesToHex } from "@noble/hashes/utils.js";

/** Random identifiers and secrets, and their SHA-256 digests. */

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** `n` random characters of [0-9a-z] (about 5.17 bits each), without modulo bias. */
export function randomToken(n: number): string {
  let out = "";
  while (out.length < n) {
    for (const byte of crypto.getRandomValues(new Uint8Array(n * 2))) {
      if (byte < 252 && out.length < n) out += ALPHABET[byte % 36];
    }
  }
  return out;
}

export type IdPrefix = "acct" | "prov" | "svc" | "ak" | "req" | "hold" | "tr" | "rf" | "cp" | "rp" | "dp" | "po" | "mnd" | "pass" | "pln" | "tip";

/** A prefixed id such as `acct_3k9…`: 20 random characters, about 103 bits. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomToken(20)}`;
}

const encoder = new TextEncoder();

/** SHA-256 in lower-case hex, of text (as UTF-8) or of bytes. */
export async function sha256Hex(data: string | ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", typeof data === "string" ? encoder.encode(data) : data);
  return bytesToHex(new Uint8Array(digest));
}

/** Constant-time comparison of two digests (workerd's `timingSafeEqual`; lengths are public). */
export function timingSafeEqualHex(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  return x.byteLength === y.byteLength && crypto.subtle.timingSafeEqual(x, y);
}

/**
 * A proxied call's request id names its payer account (`req_<account>_<random>`), so a provider's
 * later usage report can be routed to the account's ledger without a lookup.
 */
export function requestIdFor(accountId: string): string {
  return `req_${accountId.slice(accountId.indexOf("_") + 1)}_${randomToken(20)}`;
}

export function accountOfRequest(requestId: string): string | null {
  const m = /^req_([0-9a-z]{20})_[0-9a-z]{20}$/.exec(requestId);
  return m ? `acct_${m[1]}` : null;
}
