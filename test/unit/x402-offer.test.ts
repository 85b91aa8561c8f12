/** The x402 offer token (core/x402/offer.ts) and header codecs (core/x402/headers.ts) as plain functions. */
import { describe, expect, it } from "vitest";
import { decodeHeader, encodeHeader } from "../../core/x402/headers";
import { newNonce, signOffer, verifyOffer, type OfferClaims } from "../../core/x402/offer";
import { TEST_KEY_A, TEST_KEY_B } from "../signing-keys";

const ED = { name: "Ed25519" } as const;
const NOW = 1_760_000_000;

async function keysOf(jwk: { kid: string; x: string; d: string }) {
  const privateKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d }, ED, false, ["sign"]);
  const publicKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, ED, false, ["verify"]);
  return { privateKey, publicKey };
}

const claims = (over: Partial<OfferClaims> = {}): OfferClaims => ({
  kid: TEST_KEY_A.kid,
  resource: "GET https://gw.example/s/svc/x",
  amount: "1500",
  currency: "USD",
  service: "svc_1",
  exp: NOW + 300,
  nonce: newNonce(),
  ...over,
});

describe("offer token", () => {
  it("verifies what it signed, and refuses an expired one", async () => {
    const a = await keysOf(TEST_KEY_A);
    const keys = new Map([[TEST_KEY_A.kid, a.publicKey]]);
    const token = await signOffer(claims(), a.privateKey);
    const ok = await verifyOffer(token, keys, NOW);
    expect(ok.ok && ok.claims.amount).toBe("1500");
    expect((await verifyOffer(token, keys, NOW + 300)).ok).toBe(false);
  });

  it("refuses any altered field, a foreign key and garbage", async () => {
    const a = await keysOf(TEST_KEY_A);
    const b = await keysOf(TEST_KEY_B);
    const keys = new Map([[TEST_KEY_A.kid, a.publicKey]]);
    const token = await signOffer(claims(), a.privateKey);
    const [body, sig] = token.split(".") as [string, string];
    const json = JSON.parse(atob(body.replace(/-/g, "+").replace(/_/g, "/")));
    for (const change of [{ amount: "1" }, { resource: "GET https://gw.example/s/svc/y" }, { service: "svc_2" }, { exp: NOW + 9999 }]) {
      const forged = btoa(JSON.stringify({ ...json, ...change }))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");
      const check = await verifyOffer(`${forged}.${sig}`, keys, NOW);
      expect(check.ok).toBe(false);
    }
    // Signed by a key the gateway does not publish under that kid.
    expect((await verifyOffer(await signOffer(claims(), b.privateKey), keys, NOW)).ok).toBe(false);
    for (const junk of [undefined, 42, "", "a.b.c", "@@.##", "e30.AAAA"]) expect((await verifyOffer(junk, keys, NOW)).ok).toBe(false);
  });

  it("gives each offer its own nonce", () => {
    expect(new Set(Array.from({ length: 100 }, newNonce)).size).toBe(100);
  });
});

describe("x402 header codecs", () => {
  it("round-trips JSON (with non-ASCII text) through standard base64", () => {
    const value = { x402Version: 2, resource: { description: "café ☕" }, accepts: [{ amount: "1500" }] };
    const header = encodeHeader(value);
    expect(header).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodeHeader(header)).toEqual(value);
  });

  it("decodes garbage to null instead of throwing", () => {
    for (const junk of [null, undefined, "", "!!!", "bm90IGpzb24=", "/w=="]) expect(decodeHeader(junk)).toBeNull();
  });
});
