/**
 * Requests whose meaning could differ between Tollgate and the origin are refused before any
 * auth or pricing decision and never forwarded (worker/proxy/request-guard.ts). What workerd
 * itself refuses or folds before the Worker runs is shown on the wire in
 * test/e2e/raw-http.test.ts; SECURITY.md lists both.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import type { Env } from "../../worker/env";
import { MAX_HEADER_BYTES, MAX_TOTAL_HEADER_BYTES } from "../../worker/proxy/request-guard";
import {
  balance,
  call,
  createProvider,
  createHostedService,
  createService,
  expectProblem,
  GATEWAY,
  payer,
  transfers,
  unique,
  type CallInit,
  type Payer,
} from "./helpers";

let svc: { id: string; slug: string };
let hosted: { slug: string; host: string };
let p: Payer;
beforeAll(async () => {
  const prov = await createProvider();
  svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
  const host = `${unique("guard")}.example.test`;
  const s = await createHostedService(prov.key, { hostnames: [host], prices: [{ per_call: 1 }] });
  hosted = { slug: s.slug, host };
  p = await payer(1_000_000);
});

/**
 * The app itself, called with the Request as given: what a request constructed by another Worker,
 * or passed on by a layer in front, could look like. `call` goes through workerd's service
 * binding, which strips userinfo and empty headers on the way (shown below).
 */
async function direct(path: string, init: CallInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  const ctx = createExecutionContext();
  const res = await buildApp().fetch(
    new Request(`${init.base ?? GATEWAY}${path}`, { method: init.method, headers, body: init.body as string | undefined, redirect: "manual" }),
    env as unknown as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** Sends the request without a key (must be 400-class, not 401) and with one (must cost nothing). */
async function refusedBeforeAuth(path: string, init: CallInit, status: number, code: string, send: typeof call = call): Promise<any> {
  await expectProblem(await send(path, { ...init, key: null }), status, code);
  const before = await balance(p.accountId);
  const count = (await transfers(p.accountId, "?limit=100")).length;
  const res = await send(path, { ...init, key: p.agentKey });
  const problem = await expectProblem(res, status, code);
  expect(res.headers.get("tollgate-charge")).toBeNull();
  expect(await balance(p.accountId)).toEqual(before);
  expect(await transfers(p.accountId, "?limit=100")).toHaveLength(count);
  return problem;
}

async function echoed(res: Response): Promise<{ headers: Record<string, string>; body: string; path: string }> {
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe("the request target", () => {
  it("userinfo in the URL (user:password@) that reaches the Worker → 400 non_canonical_request", async () => {
    for (const base of ["http://user:pw@127.0.0.1", "http://user@127.0.0.1", "http://:pw@127.0.0.1"]) {
      const problem = await refusedBeforeAuth(`/s/${svc.slug}/echo`, { base }, 400, "non_canonical_request", direct);
      expect(problem.detail).toMatch(/credentials/);
    }
  });

  it("through workerd (service binding) userinfo is stripped before the Worker: the origin never sees it", async () => {
    const res = await call(`/s/${svc.slug}/echo`, { base: "http://user:s3cret@127.0.0.1", key: p.agentKey });
    const seen = await echoed(res);
    expect(JSON.stringify(seen)).not.toContain("s3cret");
    expect(seen.headers).not.toHaveProperty("authorization");
    // Without a key it is simply unpaid: the userinfo was never a credential.
    await expectProblem(await call(`/s/${svc.slug}/echo`, { base: "http://user:s3cret@127.0.0.1" }), 402, "payment_required");
  });

  it("a Host header naming another authority than the URL → 400, before auth (no rerouting by Host)", async () => {
    for (const host of [hosted.host, "evil.example", "127.0.0.1:8080", "127.0.0.2", "127.0.0.1/s/other", "user@127.0.0.1"]) {
      const problem = await refusedBeforeAuth(`/s/${svc.slug}/echo`, { headers: { host } }, 400, "non_canonical_request");
      expect(problem.detail).toMatch(/Host header/);
    }
    // An empty Host is dropped by the service binding; when one reaches the Worker it is refused too.
    await refusedBeforeAuth(`/s/${svc.slug}/echo`, { headers: { host: "" } }, 400, "non_canonical_request", direct);
  });

  it("an absolute-form target passed on with the original Host (URL host ≠ Host) → 400", async () => {
    // workerd refuses an absolute-form request line itself (raw-http e2e); a layer in front that
    // turned one into a URL while keeping the client's Host would reach here.
    await refusedBeforeAuth(`/s/${svc.slug}/echo`, { base: "http://evil.example", headers: { host: "127.0.0.1" } }, 400, "non_canonical_request");
    await refusedBeforeAuth("/echo", { base: `http://${hosted.host}`, headers: { host: "127.0.0.1" } }, 400, "non_canonical_request");
  });

  it("a Host header that matches the URL (default port folded, any case) is fine, and the origin sees its own host", async () => {
    for (const host of ["127.0.0.1", "127.0.0.1:80"]) {
      const seen = await echoed(await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { host } }));
      expect(seen.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    const custom = await echoed(await call("/echo", { base: `http://${hosted.host}`, key: p.agentKey, headers: { host: hosted.host.toUpperCase() } }));
    expect(custom.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});

describe("message framing", () => {
  it("Transfer-Encoding with Content-Length → 400 invalid_request, before auth, not forwarded", async () => {
    const problem = await refusedBeforeAuth(
      `/s/${svc.slug}/echo`,
      { method: "POST", body: "hello", headers: { "transfer-encoding": "chunked", "content-length": "3", "content-type": "text/plain" } },
      400,
      "invalid_request",
    );
    expect(problem.detail).toMatch(/Transfer-Encoding and Content-Length/);
  });

  it("Transfer-Encoding alone is fine: the origin gets the whole body with a length of Tollgate's, no Transfer-Encoding", async () => {
    const seen = await echoed(
      await call(`/s/${svc.slug}/echo`, {
        key: p.agentKey,
        method: "POST",
        body: "hello",
        headers: { "transfer-encoding": "chunked", "content-type": "text/plain" },
      }),
    );
    expect(seen.body).toBe("hello");
    expect(seen.headers).not.toHaveProperty("transfer-encoding");
    expect(seen.headers["content-length"]).toBe("5");
  });

  it("CR, LF and NUL cannot even be put in a header value: workerd's Headers refuses them (so does its HTTP parser)", () => {
    for (const value of ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b"]) {
      expect(() => new Request(`${GATEWAY}/s/${svc.slug}/echo`, { headers: { "x-a": value } }), JSON.stringify(value)).toThrow(TypeError);
    }
  });

  it("other control characters in a header value → 400 invalid_request before auth", async () => {
    for (const value of ["a\x01b", "a\x0bb", "a\x1fb", "a\x7fb"]) {
      const problem = await refusedBeforeAuth(`/s/${svc.slug}/echo`, { headers: { "x-note": value } }, 400, "invalid_request");
      expect(problem.detail).toMatch(/x-note header has a control character/);
    }
  });

  it("tabs and non-ASCII bytes are fine", async () => {
    const seen = await echoed(await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { "x-note": "a\tb", "x-latin": "caf\u00e9" } }));
    expect(seen.headers["x-note"]).toBe("a\tb");
  });
});

describe("oversize headers → 431 request_header_fields_too_large", () => {
  const line = (name: string, bytes: number) => ({ [name]: "v".repeat(bytes - name.length - 2) });

  it(`one header line over ${MAX_HEADER_BYTES} bytes, before auth, not charged`, async () => {
    const problem = await refusedBeforeAuth(`/s/${svc.slug}/echo`, { headers: line("x-big", MAX_HEADER_BYTES + 1) }, 431, "request_header_fields_too_large");
    expect(problem).toMatchObject({ max_header_bytes: MAX_HEADER_BYTES, detail: expect.stringMatching(/x-big header/) });
  });

  it("an oversize key is refused the same way (before it is hashed or looked up)", async () => {
    await expectProblem(await call(`/s/${svc.slug}/echo`, { key: `tg_agent_${"a".repeat(MAX_HEADER_BYTES)}` }), 431, "request_header_fields_too_large");
  });

  it(`headers totalling over ${MAX_TOTAL_HEADER_BYTES} bytes, each under the per-line limit`, async () => {
    const headers = Object.assign({}, ...[1, 2, 3, 4, 5].map((i) => line(`x-part-${i}`, 7 * 1024)));
    const problem = await refusedBeforeAuth(`/s/${svc.slug}/echo`, { headers }, 431, "request_header_fields_too_large");
    expect(problem.max_total_header_bytes).toBe(MAX_TOTAL_HEADER_BYTES);
  });

  it("at the limit is fine: the origin receives the header whole", async () => {
    const headers = line("x-big", MAX_HEADER_BYTES);
    const seen = await echoed(await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers }));
    expect(seen.headers["x-big"]).toBe(headers["x-big"]);
  });

  it("the JSON API is guarded too", async () => {
    await expectProblem(await call("/v1/me", { key: p.agentKey, headers: line("x-big", MAX_HEADER_BYTES + 1) }), 431, "request_header_fields_too_large");
  });
});
