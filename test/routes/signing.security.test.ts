/**
 * What a real forwarded request's signature protects: the SDK refuses it once anything covered is
 * changed, when it is old, when it is replayed, when it names a key the gateway does not publish,
 * or when it was made for another service; and no client can plant signature fields of its own.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { MemoryReplayStore, verifyTollgateRequest, type PlainRequest, type VerifyOptions } from "../../sdk/src/index";
import { buildApp } from "../../worker/app";
import { TEST_KEY_UNPUBLISHED } from "../signing-keys";
import { call, createProvider, createService, GATEWAY, payer, type Payer } from "./helpers";
import { received, sdkOptions } from "./signing.shared";

let svc: { id: string; slug: string };
let p: Payer;
beforeAll(async () => {
  const prov = await createProvider();
  svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
  p = await payer(1_000_000);
});

async function code(request: PlainRequest, options: VerifyOptions = sdkOptions(svc.id)): Promise<string> {
  const result = await verifyTollgateRequest(request, options);
  return result.ok ? "accepted" : result.error.code;
}

/** A genuine POST with a body, as the origin received it. */
async function genuinePost(): Promise<PlainRequest> {
  const res = await call(`/s/${svc.slug}/echo/v1/chat?model=small`, { method: "POST", key: p.agentKey, body: { prompt: "hi", max_tokens: 5 } });
  return (await received(res)).request;
}

const withUrl = (r: PlainRequest, change: (u: URL) => void) => {
  const url = new URL(r.url);
  change(url);
  return { ...r, url: url.toString() };
};
const withHeader = (r: PlainRequest, name: string, value: string | undefined) => {
  const headers = { ...(r.headers as Record<string, string>) };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...r, headers };
};

describe("a tampered request is refused", () => {
  it("the genuine one is accepted (the baseline)", async () => {
    expect(await code(await genuinePost())).toBe("accepted");
  });

  it.each<[string, (r: PlainRequest) => PlainRequest, string]>([
    ["method", (r) => ({ ...r, method: "PUT" }), "bad_signature"],
    ["path", (r) => withUrl(r, (u) => (u.pathname = "/echo/v1/admin")), "bad_signature"],
    ["query", (r) => withUrl(r, (u) => (u.search = "?model=large")), "bad_signature"],
    ["query dropped", (r) => withUrl(r, (u) => (u.search = "")), "bad_signature"],
    [
      "authority",
      (r) =>
        withHeader(
          withUrl(r, (u) => (u.hostname = "localhost")),
          "host",
          "elsewhere",
        ),
      "bad_signature",
    ],
    ["body", (r) => ({ ...r, body: JSON.stringify({ prompt: "hi", max_tokens: 50000 }) }), "digest_mismatch"],
    ["body removed", (r) => ({ ...r, body: "" }), "digest_mismatch"],
    ["request id", (r) => withHeader(r, "tollgate-request-id", "req_forged"), "bad_signature"],
    [
      "charge context",
      (r) => withHeader(r, "tollgate-charge-context", `service="${svc.id}", hold=999999, currency="USD", meter=call, deferred=?0`),
      "bad_signature",
    ],
    ["signature removed", (r) => withHeader(r, "signature", undefined), "missing_signature"],
    ["signature-input removed", (r) => withHeader(r, "signature-input", undefined), "missing_signature"],
    ["content-digest removed", (r) => withHeader(r, "content-digest", undefined), "digest_mismatch"],
  ])("%s", async (_, tamper, expected) => {
    expect(await code(tamper(await genuinePost()))).toBe(expected);
  });

  it("a request that never went through Tollgate has no signature", async () => {
    expect(await code({ method: "GET", url: "http://127.0.0.1:1/echo", headers: {} })).toBe("missing_signature");
  });
});

describe("time and replay", () => {
  it("a reused nonce is refused: the same request verifies once", async () => {
    const request = await genuinePost();
    const store = new MemoryReplayStore();
    expect(await code(request, sdkOptions(svc.id, { replayStore: store }))).toBe("accepted");
    expect(await code(request, sdkOptions(svc.id, { replayStore: store }))).toBe("replayed");
  });

  it("an expired signature is refused (verified 2 minutes later)", async () => {
    const request = await genuinePost();
    expect(await code(request, sdkOptions(svc.id, { now: () => Date.now() + 120_000 }))).toBe("expired");
  });

  it("a stale created is refused even before it expires (maxAgeSeconds)", async () => {
    const request = await genuinePost();
    expect(await code(request, sdkOptions(svc.id, { maxAgeSeconds: 0, now: () => Date.now() + 45_000 }))).toBe("stale");
  });

  it("a signature from the future is refused (an origin clock far behind)", async () => {
    const request = await genuinePost();
    expect(await code(request, sdkOptions(svc.id, { now: () => Date.now() - 120_000 }))).toBe("not_yet_valid");
  });
});

describe("keys and services", () => {
  it("a signature by a key the gateway does not publish is refused as unknown_key", async () => {
    // A gateway signing with test-z, which the real gateway's JWKS does not list.
    const ctx = createExecutionContext();
    const res = await buildApp().fetch(
      new Request(`${GATEWAY}/s/${svc.slug}/echo`, { headers: { authorization: `Bearer ${p.agentKey}` } }),
      { ...env, SIGNING_KEYS: JSON.stringify([TEST_KEY_UNPUBLISHED]) },
      ctx,
    );
    const { echoed, request } = await received(res);
    await waitOnExecutionContext(ctx);
    expect(echoed.headers["signature-input"]).toContain('keyid="test-z"');
    expect(await code(request)).toBe("unknown_key");
  });

  it("a genuine call to one service is refused by another service's origin", async () => {
    expect(await code(await genuinePost(), sdkOptions("svc_another00000000000000"))).toBe("wrong_service");
  });
});

describe("clients cannot plant signature fields", () => {
  it("client-sent signature, signature-input, content-digest and charge context are dropped or replaced", async () => {
    const forged = {
      signature: "tollgate=:AAAA:, evil=:AAAA:",
      "signature-input": 'tollgate=("@method");created=1;expires=9999999999;nonce="x";keyid="test-a";tag="tollgate", evil=()',
      "content-digest": "sha-256=:AAAA:",
      "tollgate-charge-context": 'service="svc_x", hold=1, currency="USD"',
    };
    const get = await received(await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: forged }));
    expect(get.echoed.headers).not.toHaveProperty("content-digest");
    expect(get.echoed.headers.signature).not.toContain("evil");
    expect(get.echoed.headers["signature-input"]).not.toContain("evil");
    expect(get.echoed.headers["tollgate-charge-context"]).toContain(`service="${svc.id}"`);
    expect(await code(get.request)).toBe("accepted");

    const post = await received(await call(`/s/${svc.slug}/echo`, { method: "POST", key: p.agentKey, body: "x", headers: forged }));
    expect(post.echoed.headers["content-digest"]).not.toBe(forged["content-digest"]);
    expect(await code(post.request)).toBe("accepted");
  });

  it("Connection cannot strip Tollgate's signature fields", async () => {
    const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { connection: "signature, signature-input, tollgate-charge-context" } });
    const { echoed, request } = await received(res);
    expect(echoed.headers.signature).toMatch(/^tollgate=/);
    expect(await code(request)).toBe("accepted");
  });
});
