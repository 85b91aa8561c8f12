import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, createService, hostnamesOf, originUrl, payer, unique } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

describe("POST /v1/services", () => {
  it("creates a service with defaults filled in", async () => {
    const slug = unique("create");
    const r = await api("/v1/services", {
      key: prov.key,
      body: { slug, name: "Translate", origin: "https://api.example.com/base", prices: [{ match: { method: "POST", path: "/v1/*" }, per_call: 2000 }] },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      id: expect.stringMatching(/^svc_[0-9a-z]{20}$/),
      provider_id: prov.id,
      slug,
      name: "Translate",
      origin: "https://api.example.com/base",
      currency: "USD",
      hostnames: [],
      prices: [{ match: { method: "POST", path: "/v1/*" }, per_call: 2000 }],
      timeout_ms: 30_000,
      fee_bps: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const got = await api(`/v1/services/${r.body.id}`, { key: prov.key });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(r.body);
  });

  it("keeps hostnames, timeout and a match-less rule", async () => {
    const hostnames = [`${unique("b")}.example.test`, `${unique("a")}.example.test`];
    const svc = await createService(prov.key, { hostnames, timeout_ms: 5000, prices: [{ per_call: 0 }] });
    expect(hostnamesOf(svc)).toEqual([...hostnames].sort());
    expect(svc.timeout_ms).toBe(5000);
    expect(svc.prices).toEqual([{ match: {}, per_call: 0 }]);
    const got = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect(got.body.hostnames).toEqual(svc.hostnames);
  });

  it("the operator creates a service on a provider's behalf, with its own fee_bps", async () => {
    const r = await api("/v1/services", {
      key: OPERATOR,
      body: { slug: unique("op"), name: "By operator", origin: "http://example.com", prices: [{ per_call: 1 }], provider_id: prov.id, fee_bps: 250 },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ provider_id: prov.id, fee_bps: 250 });
    const mine = await api(`/v1/services/${r.body.id}`, { key: prov.key });
    expect(mine.status).toBe(200);
  });
});

describe("GET /v1/services", () => {
  it("pages a provider's services with limit and next_cursor, each once", async () => {
    const own = await createProvider();
    const other = await createProvider();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await createService(own.key)).id);
    await createService(other.key);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
      const r = await api(`/v1/services${q}`, { key: own.key });
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.data.map((s: { id: string }) => s.id));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(ids);
  });

  it("the operator sees every provider's services", async () => {
    const a = await createService((await createProvider()).key);
    const b = await createService((await createProvider()).key);
    const r = await api("/v1/services?limit=100", { key: OPERATOR });
    const ids = r.body.data.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
  });
});

describe("PATCH /v1/services/{id}", () => {
  it("changes name, origin, prices, timeout and hostnames; GET agrees", async () => {
    const svc = await createService(prov.key, { hostnames: [`${unique("old")}.example.test`] });
    const newHost = `${unique("new")}.example.test`;
    const patch = {
      name: "Renamed",
      origin: "https://other.example.com",
      prices: [{ match: { method: "GET" }, per_call: 7 }],
      timeout_ms: 1000,
      hostnames: [newHost],
    };
    const r = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: patch });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      ...patch,
      hostnames: [{ hostname: newHost, status: "pending" }],
      prices: [{ match: { method: "GET" }, per_call: 7 }],
      slug: svc.slug,
      id: svc.id,
      created_at: svc.created_at,
    });
    expect(Date.parse(r.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(svc.updated_at));
    const got = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect(got.body).toEqual(r.body);
  });

  it("a new price applies to the next proxied call", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 10 }] });
    const p = await payer(100);
    const first = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(first.headers.get("tollgate-charge")).toBe("10");
    await first.body?.cancel();
    await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { prices: [{ per_call: 25 }] } });
    const second = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(second.headers.get("tollgate-charge")).toBe("25");
    expect(second.headers.get("tollgate-balance")).toBe("65");
    await second.body?.cancel();
  });

  it("releasing a hostname lets another service take it", async () => {
    const host = `${unique("move")}.example.test`;
    const a = await createService(prov.key, { hostnames: [host] });
    const cleared = await api(`/v1/services/${a.id}`, { method: "PATCH", key: prov.key, body: { hostnames: [] } });
    expect(cleared.body.hostnames).toEqual([]);
    const b = await createService(prov.key, { hostnames: [host] });
    expect(b.hostnames).toMatchObject([{ hostname: host, status: "pending" }]);
  });

  it("the operator sets and clears fee_bps", async () => {
    const svc = await createService(prov.key);
    const set = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: OPERATOR, body: { fee_bps: 100 } });
    expect(set.status).toBe(200);
    expect(set.body.fee_bps).toBe(100);
    const cleared = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: OPERATOR, body: { fee_bps: null } });
    expect(cleared.body.fee_bps).toBeNull();
  });
});

describe("GET /v1/services/{id}/pricing (public)", () => {
  it("answers without a credential, and shows prices but not the origin or provider", async () => {
    const prices = [{ match: { method: "POST", path: "/v1/*" }, per_call: 2000 }, { per_call: 5 }];
    const svc = await createService(prov.key, { prices, origin: `${originUrl()}/secret-base` });
    const r = await api(`/v1/services/${svc.id}/pricing`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.body).toEqual({
      id: svc.id,
      slug: svc.slug,
      name: svc.name,
      currency: "USD",
      currency_note: expect.any(String),
      prices: [prices[0], { match: {}, per_call: 5 }],
      protocol: "http",
      plans: [],
      plans_note: expect.any(String),
    });
    expect(JSON.stringify(r.body)).not.toContain("secret-base");
    expect(JSON.stringify(r.body)).not.toContain(prov.id);
  });

  it("ignores a credential, even a bad one", async () => {
    const svc = await createService(prov.key);
    expect((await api(`/v1/services/${svc.id}/pricing`, { key: "garbage" })).status).toBe(200);
  });
});
