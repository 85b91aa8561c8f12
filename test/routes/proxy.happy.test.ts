import { beforeAll, describe, expect, it } from "vitest";
import { api, balance, call, createProvider, createHostedService, createService, originUrl, payer, transfers, unique } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

describe("a paid call through /s/{slug}", () => {
  it("forwards the path after the slug, charges the price exactly, and says so in headers", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(10_000);
    const res = await call(`/s/${svc.slug}/echo/hi?x=1`, { key: p.agentKey });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ method: "GET", path: "/echo/hi", query: "?x=1" });
    expect(res.headers.get("tollgate-charge")).toBe("2000");
    expect(res.headers.get("tollgate-balance")).toBe("8000");
    const requestId = res.headers.get("tollgate-request-id");
    expect(requestId).toMatch(/^req_[0-9a-z_]+$/);
    expect(body.headers["tollgate-request-id"]).toBe(requestId);
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 8000, pending: 0, available: 8000 });

    const [capture] = await transfers(p.accountId);
    expect(capture).toMatchObject({
      kind: "capture",
      amount: 2000,
      request_id: requestId,
      service_id: svc.id,
      provider_id: prov.id,
      agent_key_id: p.agentKeyId,
    });
  });

  it("charges every call: three calls of 300 against 1000 leave 700, 400, 100", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 300 }] });
    const p = await payer(1000);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
      expect(res.status).toBe(200);
      seen.push(res.headers.get("tollgate-balance") ?? "");
      await res.body?.cancel();
    }
    expect(seen).toEqual(["700", "400", "100"]);
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 100, pending: 0, available: 100 });
  });

  it("passes the query string and body through byte for byte, with the method and content type", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const p = await payer(100);
    const payload = JSON.stringify({ text: "héllo wörld", n: [1, 2, 3] });
    const res = await call(`/s/${svc.slug}/echo/items?a=1&b=two%20words&a=2&empty=`, {
      method: "PUT",
      key: p.agentKey,
      body: payload,
      headers: { "content-type": "application/json; charset=utf-8", "x-custom": "kept" },
    });
    const body = await res.json<any>();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ method: "PUT", path: "/echo/items", query: "?a=1&b=two%20words&a=2&empty=", body: payload });
    expect(body.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(body.headers["x-custom"]).toBe("kept");
  });

  it("streams a large request body through intact", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const p = await payer(100);
    const big = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
    const res = await call(`/s/${svc.slug}/echo/upload`, { method: "POST", key: p.agentKey, body: big, headers: { "content-type": "text/plain" } });
    const body = await res.json<any>();
    expect(body.body.length).toBe(big.length);
    expect(body.body === big).toBe(true);
  });

  it("keeps the origin's own path prefix", async () => {
    const svc = await createService(prov.key, { origin: `${originUrl()}/echo/base`, prices: [{ per_call: 1 }] });
    const p = await payer(100);
    const body = await (await call(`/s/${svc.slug}/v1/x`, { key: p.agentKey })).json<any>();
    expect(body.path).toBe("/echo/base/v1/x");
  });

  it("takes the agent key as x-api-key (OpenAI/Anthropic SDK style) and runs the quickstart call", async () => {
    const svc = await createService(prov.key, { prices: [{ match: { method: "POST", path: "/v1/*" }, per_call: 2000 }] });
    const p = await payer(5000);
    const res = await call(`/s/${svc.slug}/v1/translate`, { method: "POST", body: { text: "abc" }, headers: { "x-api-key": p.agentKey } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ translation: "cba", characters: 3 });
    expect(res.headers.get("tollgate-charge")).toBe("2000");
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 3000, pending: 0, available: 3000 });
  });

  it("returns a redirect as is, never following it (a 3xx is a delivered answer and is charged)", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 10 }] });
    const p = await payer(100);
    const res = await call(`/s/${svc.slug}/redirect`, { key: p.agentKey });
    expect(res.status).toBe(302);
    // The origin's own path is rewritten to the gateway's path for it (the agent follows it here).
    expect(res.headers.get("location")).toBe(`/s/${svc.slug}/echo`);
    expect(await res.json()).toEqual({ moved: true });
    expect(res.headers.get("tollgate-charge")).toBe("10");
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 90, pending: 0, available: 90 });
  });
});

describe("price rules", () => {
  it("the first matching rule applies, by method and path glob", async () => {
    const prices = [
      { match: { method: "POST", path: "/v1/*" }, per_call: 30 },
      { match: { path: "/echo/free*" }, per_call: 0 },
      { match: { path: "/echo/*" }, per_call: 7 },
      { match: { method: "GET" }, per_call: 100 },
    ];
    const svc = await createService(prov.key, { prices });
    const p = await payer(1000);
    const cases: [string, string, string][] = [
      ["POST", "/v1/translate", "30"],
      ["GET", "/echo/free/x", "0"],
      ["GET", "/echo/paid", "7"],
      ["POST", "/echo/paid", "7"],
      ["GET", "/status/200", "100"],
    ];
    for (const [method, path, charge] of cases) {
      const res = await call(`/s/${svc.slug}${path}`, { method, key: p.agentKey, body: method === "POST" ? { text: "x" } : undefined });
      expect(res.status, `${method} ${path}`).toBe(200);
      expect(res.headers.get("tollgate-charge"), `${method} ${path}`).toBe(charge);
      await res.body?.cancel();
    }
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 1000 - 30 - 0 - 7 - 7 - 100, pending: 0, available: 856 });
  });

  it("a free rule is still authorized and metered, and records no transfer", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 0 }] });
    const p = await payer(0);
    const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("tollgate-charge")).toBe("0");
    expect(res.headers.get("tollgate-balance")).toBe("0");
    await res.body?.cancel();
    expect(await transfers(p.accountId)).toEqual([]);
  });
});

describe("custom hostnames", () => {
  it("every path on a service's hostname is that service's", async () => {
    const host = `api-${unique("h")}.example.test`;
    const svc = await createHostedService(prov.key, { hostnames: [host], prices: [{ per_call: 40 }] });
    const p = await payer(100);
    const res = await call("/echo/by-host?q=1", { base: `http://${host}`, key: p.agentKey });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ path: "/echo/by-host", query: "?q=1" });
    expect(res.headers.get("tollgate-charge")).toBe("40");
    expect(res.headers.get("tollgate-balance")).toBe("60");
    // The same service still answers on its slug.
    const bySlug = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(bySlug.headers.get("tollgate-balance")).toBe("20");
    await bySlug.body?.cancel();
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 20, pending: 0, available: 20 });
  });

  it("api.example.test routes to its service, case-insensitively, and the JSON API is not reachable there", async () => {
    await createHostedService(prov.key, { hostnames: ["api.example.test"], prices: [{ per_call: 1 }] });
    const p = await payer(10);
    const res = await call("/echo", { base: "http://API.Example.TEST", key: p.agentKey });
    expect(res.status).toBe(200);
    expect((await res.json<any>()).path).toBe("/echo");
    // /v1/me on the custom hostname goes to the origin (which has no such path), not to Tollgate.
    const me = await call("/v1/me", { base: "http://api.example.test", key: p.agentKey });
    expect(me.status).toBe(404);
    expect(me.headers.get("content-type")).toBe("application/json");
    expect(await me.json()).toEqual({ error: "not found" });
  });

  it("a hostname that belongs to no service falls through to the JSON API", async () => {
    const r = await api("/", { base: "http://unclaimed.example.test" });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe("tollgate");
  });
});
