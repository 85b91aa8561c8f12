/**
 * The SDK's verifyTollgateRequest (sdk/src) on what the request binds: tampering, coverage, time,
 * replay, service and authority. Key lookup, rotation and JWKS fetching: signing-verify-jwks.test.ts.
 */
import { describe, expect, it } from "vitest";
import { contentDigest } from "../../worker/proxy/signing";
import { MemoryReplayStore, verifyTollgateRequest, type VerifyOptions } from "../../sdk/src/index";
import { NOW, options, rejection, SERVICE, signed } from "./signing-fixtures";

describe("verifyTollgateRequest", () => {
  it("accepts a genuine request and returns its request id and charge context", async () => {
    const result = await verifyTollgateRequest(await signed(), options());
    expect(result).toMatchObject({
      ok: true,
      requestId: "req_abc_def",
      keyId: "test-a",
      created: NOW,
      expires: NOW + 60,
      charge: { serviceId: SERVICE, hold: 2000, currency: "USD", meter: "call", deferred: false },
    });
  });

  it("accepts a fetch Request too, and leaves its body readable", async () => {
    const plain = await signed();
    const request = new Request(plain.url, { method: plain.method, headers: plain.headers as Record<string, string>, body: plain.body as string });
    expect((await verifyTollgateRequest(request, options())).ok).toBe(true);
    expect(await request.text()).toBe('{"hello": "world"}');
  });

  it("rejects a tampered method, path, query or body", async () => {
    const genuine = await signed();
    expect(await rejection({ ...genuine, method: "PUT" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, url: "https://api.example.com/v1/admin?b=2&a=1" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, url: "https://api.example.com/v1/translate?b=2&a=100" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, url: "https://api.example.com/v1/translate" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, url: "https://other.example.com/v1/translate?b=2&a=1" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, body: '{"hello": "w0rld"}' })).toBe("digest_mismatch");
  });

  it("rejects a body added to a request signed without one", async () => {
    const bodiless = await signed({ method: "GET", bodyText: null });
    expect(await rejection({ ...bodiless, body: "smuggled" })).toBe("digest_mismatch");
  });

  it("rejects a body and digest both replaced (the digest is signed)", async () => {
    const genuine = await signed();
    const body = new TextEncoder().encode("other").buffer as ArrayBuffer;
    const headers = { ...(genuine.headers as Record<string, string>), "content-digest": await contentDigest(body) };
    expect(await rejection({ ...genuine, headers, body: "other" })).toBe("bad_signature");
  });

  it("rejects a changed request id or charge context", async () => {
    const genuine = await signed();
    const h = genuine.headers as Record<string, string>;
    expect(await rejection({ ...genuine, headers: { ...h, "tollgate-request-id": "req_abc_xyz" } })).toBe("bad_signature");
    const cheaper = (h["tollgate-charge-context"] as string).replace("hold=2000", "hold=2");
    expect(await rejection({ ...genuine, headers: { ...h, "tollgate-charge-context": cheaper } })).toBe("bad_signature");
  });

  it("rejects a missing signature, and one under another label", async () => {
    const genuine = await signed();
    const { signature, "signature-input": input, ...rest } = genuine.headers as Record<string, string>;
    expect(await rejection({ ...genuine, headers: rest })).toBe("missing_signature");
    expect(await rejection({ ...genuine, headers: { ...rest, "signature-input": input } })).toBe("missing_signature");
    const relabelled = {
      ...rest,
      signature: (signature as string).replace("tollgate=", "other="),
      "signature-input": (input as string).replace("tollgate=", "other="),
    };
    expect(await rejection({ ...genuine, headers: relabelled })).toBe("missing_signature");
  });

  it("rejects malformed or under-covering signature inputs", async () => {
    const genuine = await signed();
    const h = genuine.headers as Record<string, string>;
    const input = h["signature-input"] as string;
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": `${input},` } })).toBe("malformed_signature");
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": input.replace('"@query" ', "") } })).toBe("insufficient_coverage");
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": input.replace(/;nonce="[^"]+"/, "") } })).toBe("malformed_signature");
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": input.replace('tag="tollgate"', 'tag="web-bot-auth"') } })).toBe(
      "malformed_signature",
    );
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": input.replace('alg="ed25519"', 'alg="hmac-sha256"') } })).toBe(
      "malformed_signature",
    );
  });

  it("rejects a stale created, an expired signature, and one from the future", async () => {
    // Created 10 minutes ago with a (too) long lifetime: still refused by maxAgeSeconds.
    expect(await rejection(await signed({ now: NOW - 600, ttlSeconds: 3600 }))).toBe("stale");
    expect(await rejection(await signed({ now: NOW - 120 }))).toBe("expired");
    expect(await rejection(await signed({ now: NOW + 120 }))).toBe("not_yet_valid");
    // Within the allowed clock skew (30 s) it passes.
    expect((await verifyTollgateRequest(await signed({ now: NOW + 20 }), options())).ok).toBe(true);
    expect((await verifyTollgateRequest(await signed({ now: NOW - 80 }), options())).ok).toBe(true);
  });

  it("rejects a reused nonce, and remembers it no longer than needed", async () => {
    const store = new MemoryReplayStore();
    const request = await signed();
    expect((await verifyTollgateRequest(request, options({ replayStore: store }))).ok).toBe(true);
    expect(await rejection(request, options({ replayStore: store }))).toBe("replayed");
    // A fresh nonce passes.
    expect((await verifyTollgateRequest(await signed(), options({ replayStore: store }))).ok).toBe(true);
    expect(store.size).toBe(2);
    store.consume("sweep", Number.MAX_SAFE_INTEGER, (NOW + 3600) * 1000);
    expect(store.size).toBe(1);
  });

  it("a forged request never uses up a genuine nonce", async () => {
    const store = new MemoryReplayStore();
    const genuine = await signed();
    expect(await rejection({ ...genuine, method: "DELETE" }, options({ replayStore: store }))).toBe("bad_signature");
    expect((await verifyTollgateRequest(genuine, options({ replayStore: store }))).ok).toBe(true);
  });

  it("uses one process-wide replay store by default", async () => {
    const request = await signed();
    const { replayStore: _, ...defaults } = options();
    expect((await verifyTollgateRequest(request, defaults as VerifyOptions)).ok).toBe(true);
    expect(await rejection(request, defaults as VerifyOptions)).toBe("replayed");
  });

  it("rejects a genuine signature made for another service", async () => {
    expect(await rejection(await signed(), options({ serviceId: "svc_someoneelse000000000" }))).toBe("wrong_service");
    expect((await verifyTollgateRequest(await signed(), options({ serviceId: ["svc_other", SERVICE] }))).ok).toBe(true);
  });

  it("checks the authority it is told, not the Host header, when given one", async () => {
    const genuine = await signed();
    const proxied = { ...genuine, url: "http://10.0.0.7:8080/v1/translate?b=2&a=1" };
    expect(await rejection(proxied)).toBe("bad_signature");
    expect((await verifyTollgateRequest(proxied, options({ authority: "api.example.com" }))).ok).toBe(true);
  });
});
