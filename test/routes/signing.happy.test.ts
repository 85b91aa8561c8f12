/**
 * Every forwarded call is signed (RFC 9421, Ed25519) and the SDK verifies what the origin really
 * received, with the keys the gateway publishes; services carry their verification material;
 * the JWKS serves both keys; rotation works; the Hono example origin accepts a paid call.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { encodeBase64 } from "hono/utils/encode";
import { beforeAll, describe, expect, it } from "vitest";
import createHonoOrigin from "../../sdk/examples/hono";
import { verifyTollgateRequest } from "../../sdk/src/index";
import { buildApp } from "../../worker/app";
import { TEST_KEY_A, TEST_KEY_B } from "../signing-keys";
import { api, call, createProvider, createHostedService, createService, GATEWAY, originUrl, payer, unique } from "./helpers";
import { gatewayFetch, JWKS_URL, received, sdkOptions } from "./signing.shared";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

async function sha256Digest(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `sha-256=:${encodeBase64(digest)}:`;
}

describe("the origin receives a signed request", () => {
  it("GET: signed over method, authority, path, query, request id and charge context; the SDK verifies it", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(10_000);
    const res = await call(`/s/${svc.slug}/echo/hi?x=1&y=two`, { key: p.agentKey });
    const requestId = res.headers.get("tollgate-request-id");
    const { echoed, request } = await received(res);
    expect(echoed.headers["signature-input"]).toMatch(
      /^tollgate=\("@method" "@authority" "@path" "@query" "tollgate-request-id" "tollgate-charge-context"\);created=\d+;expires=\d+;nonce="[^"]+";keyid="test-a";alg="ed25519";tag="tollgate"$/,
    );
    expect(echoed.headers.signature).toMatch(/^tollgate=:[A-Za-z0-9+/=]+:$/);
    expect(echoed.headers).not.toHaveProperty("content-digest");
    expect(echoed.headers["tollgate-request-id"]).toBe(requestId);

    const result = await verifyTollgateRequest(request, sdkOptions(svc.id));
    expect(result).toMatchObject({
      ok: true,
      requestId,
      keyId: "test-a",
      charge: { serviceId: svc.id, hold: 2000, currency: "USD", meter: "call", deferred: false },
    });
    if (result.ok) expect(result.expires - result.created).toBe(60);
  });

  it("POST: content-digest is the SHA-256 of the exact body, and covered", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 5 }] });
    const p = await payer(100);
    const payload = JSON.stringify({ text: "héllo wörld", n: [1, 2, 3] });
    const { echoed, request } = await received(await call(`/s/${svc.slug}/echo/items?a=1&a=2`, { method: "POST", key: p.agentKey, body: payload }));
    expect(echoed.body).toBe(payload);
    expect(echoed.headers["content-digest"]).toBe(await sha256Digest(payload));
    expect(echoed.headers["signature-input"]).toContain('"@query" "content-digest" "tollgate-request-id"');
    expect(await verifyTollgateRequest(request, sdkOptions(svc.id))).toMatchObject({ ok: true, charge: { hold: 5 } });
  });

  it("a body-carrying method with an empty body is digested too", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 5 }] });
    const p = await payer(100);
    const { echoed, request } = await received(await call(`/s/${svc.slug}/echo`, { method: "POST", key: p.agentKey, body: "" }));
    expect(echoed.headers["content-digest"]).toBe(await sha256Digest(""));
    expect((await verifyTollgateRequest(request, sdkOptions(svc.id))).ok).toBe(true);
  });

  it("the charge context carries the hold of a metered call", async () => {
    const rule = { meter: "units", rate: { amount: 10, per: 1 }, hold: 777, deferred: true };
    const svc = await createService(prov.key, { prices: [rule] });
    const p = await payer(10_000);
    const res = await call(`/s/${svc.slug}/echo/job`, { method: "POST", key: p.agentKey, body: { job: 1 } });
    expect(res.headers.get("tollgate-hold")).toBe("777");
    const { request } = await received(res);
    expect(await verifyTollgateRequest(request, sdkOptions(svc.id))).toMatchObject({ ok: true, charge: { hold: 777, meter: "units", deferred: true } });
  });

  it("the signed path is the origin's (its own prefix kept), and a custom hostname is signed the same way", async () => {
    const host = `${unique("api")}.example.test`;
    const svc = await createHostedService(prov.key, { origin: `${originUrl()}/echo/base`, hostnames: [host], prices: [{ per_call: 1 }] });
    const p = await payer(100);
    for (const res of [await call(`/s/${svc.slug}/v1/x?q=1`, { key: p.agentKey }), await call("/v1/x?q=1", { key: p.agentKey, base: `http://${host}` })]) {
      const { echoed, request } = await received(res);
      expect(echoed.path).toBe("/echo/base/v1/x");
      // @authority is the origin's: what its Host header says, not the gateway's name.
      expect(new URL(request.url).host).toBe(new URL(originUrl()).host);
      expect((await verifyTollgateRequest(request, sdkOptions(svc.id))).ok).toBe(true);
    }
  });

  it("each call has its own nonce", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const p = await payer(100);
    const nonces = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { echoed } = await received(await call(`/s/${svc.slug}/echo`, { key: p.agentKey }));
      nonces.add(/nonce="([^"]+)"/.exec(echoed.headers["signature-input"] ?? "")?.[1] ?? "");
    }
    expect(nonces.size).toBe(5);
  });
});

describe("the published keys", () => {
  it.each([
    ["/.well-known/http-message-signatures-directory", "application/http-message-signatures-directory+json"],
    ["/.well-known/jwks.json", "application/json"],
  ])("%s serves both keys, public only, with kid, to anyone", async (path, mediaType) => {
    const res = await call(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain(mediaType);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const body = await res.json<any>();
    expect(body).toEqual({
      keys: [
        { kty: "OKP", crv: "Ed25519", x: TEST_KEY_A.x, kid: "test-a", alg: "Ed25519", use: "sig" },
        { kty: "OKP", crv: "Ed25519", x: TEST_KEY_B.x, kid: "test-b", alg: "Ed25519", use: "sig" },
      ],
    });
    expect(JSON.stringify(body)).not.toContain(TEST_KEY_A.d);
  });

  it("are documented in /openapi.json", async () => {
    const doc = (await api("/openapi.json")).body;
    expect(doc.paths["/.well-known/http-message-signatures-directory"].get).toBeDefined();
    expect(doc.paths["/.well-known/jwks.json"].get).toBeDefined();
    expect(doc.components.schemas.Service.properties.verification).toBeDefined();
  });
});

describe("a service's verification material", () => {
  it("comes with the created service, and with every read of it, derived from the gateway's keys", async () => {
    const svc = await createService(prov.key);
    const expected = {
      jwks_url: JWKS_URL,
      keyids: ["test-a", "test-b"],
      algorithm: "ed25519",
      signature_label: "tollgate",
      covered_components: ["@method", "@authority", "@path", "@query", "content-digest", "tollgate-request-id", "tollgate-charge-context"],
      max_age_seconds: 60,
    };
    expect(svc.verification).toEqual(expected);
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.verification).toEqual(expected);
    expect((await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { name: "renamed" } })).body.verification).toEqual(expected);
    const list = (await api("/v1/services?limit=100", { key: prov.key })).body.data;
    expect(list.find((s: any) => s.id === svc.id).verification).toEqual(expected);
  });

  it("is enough to verify: the SDK configured from it alone accepts a paid call", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const p = await payer(10);
    const { request } = await received(await call(`/s/${svc.slug}/echo`, { key: p.agentKey }));
    const result = await verifyTollgateRequest(request, { jwksUrl: svc.verification.jwks_url, fetch: gatewayFetch, serviceId: svc.id });
    expect(result.ok).toBe(true);
  });
});

describe("key rotation", () => {
  const rotated = JSON.stringify([TEST_KEY_B, TEST_KEY_A]);

  /** One call through a gateway whose SIGNING_KEYS are `keys` (same D1 and Durable Objects). */
  async function viaGateway(keys: string, path: string, init: RequestInit = {}): Promise<Response> {
    const ctx = createExecutionContext();
    const res = await buildApp().fetch(new Request(`${GATEWAY}${path}`, init), { ...env, SIGNING_KEYS: keys }, ctx);
    const text = await res.text();
    await waitOnExecutionContext(ctx);
    return new Response(text, { status: res.status, headers: res.headers });
  }

  it("after the swap the second key signs, and an origin holding the JWKS from before still verifies", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const p = await payer(100);
    // The origin has already fetched the JWKS (both keys) from the gateway before the swap.
    const options = sdkOptions(svc.id);
    const before = await received(await call(`/s/${svc.slug}/echo`, { key: p.agentKey }));
    expect(await verifyTollgateRequest(before.request, options)).toMatchObject({ ok: true, keyId: "test-a" });

    const after = await received(await viaGateway(rotated, `/s/${svc.slug}/echo`, { headers: { authorization: `Bearer ${p.agentKey}` } }));
    expect(after.echoed.headers["signature-input"]).toContain('keyid="test-b"');
    expect(await verifyTollgateRequest(after.request, options)).toMatchObject({ ok: true, keyId: "test-b" });

    const jwks = await (await viaGateway(rotated, "/.well-known/jwks.json")).json<any>();
    expect(jwks.keys.map((k: any) => k.kid)).toEqual(["test-b", "test-a"]);
  });
});

describe("the Hono example origin", () => {
  it("serves a paid call once, and refuses its replay and an unsigned call", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const p = await payer(100);
    const { request } = await received(await call(`/s/${svc.slug}/echo/v1/translate`, { method: "POST", key: p.agentKey, body: { text: "abc" } }));
    const origin = createHonoOrigin;
    const workerEnv = { TOLLGATE_JWKS_URL: JWKS_URL, TOLLGATE_SERVICE_ID: svc.id };
    // The example fetches the JWKS with the global fetch; point it at the gateway under test.
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((input: RequestInfo | URL) => gatewayFetch(String(input instanceof Request ? input.url : input))) as typeof fetch;
    try {
      const asFetch = () =>
        new Request(request.url, { method: request.method, headers: request.headers as Record<string, string>, body: request.body as string });
      const first = await origin.fetch(asFetch(), workerEnv);
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ method: "POST", path: "/echo/v1/translate", charge: { serviceId: svc.id, hold: 1 } });
      const replay = await origin.fetch(asFetch(), workerEnv);
      expect({ status: replay.status, body: await replay.json() }).toMatchObject({ status: 401, body: { error: "replayed" } });
      const unsigned = await origin.fetch(new Request(request.url), workerEnv);
      expect({ status: unsigned.status, body: await unsigned.json() }).toMatchObject({ status: 401, body: { error: "missing_signature" } });
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
