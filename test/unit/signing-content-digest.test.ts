/** The signer's content-digest (worker/proxy/signing.ts) against the known-answer vector of RFC 9530. */
import { describe, expect, it } from "vitest";
import { contentDigest } from "../../worker/proxy/signing";

describe("content-digest (RFC 9530)", () => {
  it('matches the RFC\'s sha-256 example for {"hello": "world"}', async () => {
    const body = new TextEncoder().encode('{"hello": "world"}').buffer as ArrayBuffer;
    expect(await contentDigest(body)).toBe("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
  });
});
