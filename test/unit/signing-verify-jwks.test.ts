/** The SDK's verifyTollgateRequest (sdk/src) on keys: unknown keyids, rotation, and fetching the JWKS. */
import { describe, expect, it } from "vitest";
import { MemoryReplayStore, verifyTollgateRequest, type VerifyOptions } from "../../sdk/src/index";
import { TEST_KEY_B, TEST_KEY_UNPUBLISHED } from "../signing-keys";
import { JWKS, NOW, options, rejection, SERVICE, signed, signerOf } from "./signing-fixtures";

describe("verifyTollgateRequest", () => {
  it("rejects an unknown keyid, and a known keyid whose signature is by another key", async () => {
    expect(await rejection(await signed({ key: await signerOf(TEST_KEY_UNPUBLISHED) }))).toBe("unknown_key");
    const impostor = await signerOf(TEST_KEY_UNPUBLISHED);
    expect(await rejection(await signed({ key: { ...impostor, kid: "test-a" } }))).toBe("bad_signature");
  });

  it("rotation: a signature by the second published key verifies", async () => {
    const result = await verifyTollgateRequest(await signed({ key: await signerOf(TEST_KEY_B) }), options());
    expect(result).toMatchObject({ ok: true, keyId: "test-b" });
  });

  it("answers key_fetch_failed (status 503) when the JWKS cannot be fetched", async () => {
    const result = await verifyTollgateRequest(await signed(), {
      ...options(),
      jwks: undefined,
      jwksUrl: "https://gateway.invalid/.well-known/jwks.json",
      fetch: async () => new Response("down", { status: 503 }),
    } as VerifyOptions);
    expect(result.ok).toBe(false);
    if (!result.ok) expect({ code: result.error.code, status: result.error.status }).toEqual({ code: "key_fetch_failed", status: 503 });
  });

  it("fetches the JWKS once, and again for a new keyid (at most every 30 s)", async () => {
    let fetches = 0;
    let published = [JWKS.keys[0]];
    const fetcher = async () => {
      fetches++;
      return Response.json({ keys: published });
    };
    let clock = NOW * 1000;
    const opts = (): VerifyOptions => ({
      jwksUrl: "https://gw.example/jwks-refetch",
      serviceId: SERVICE,
      fetch: fetcher,
      now: () => clock,
      replayStore: new MemoryReplayStore(),
    });
    expect((await verifyTollgateRequest(await signed(), opts())).ok).toBe(true);
    expect((await verifyTollgateRequest(await signed(), opts())).ok).toBe(true);
    expect(fetches).toBe(1);
    // test-b appears in the gateway's JWKS: too soon to refetch, then picked up.
    published = JWKS.keys;
    const byB = await signed({ key: await signerOf(TEST_KEY_B), now: NOW + 31 });
    expect(await rejection(byB, opts())).toBe("unknown_key");
    clock += 31_000;
    expect((await verifyTollgateRequest(byB, opts())).ok).toBe(true);
    expect(fetches).toBe(2);
  });
});
