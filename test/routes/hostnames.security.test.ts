/**
 * Custom-hostname takeover: a provider must not receive calls meant for a name it does not
 * control. A claim routes nothing until the operator activates it; the gateway's own hosts
 * (GATEWAY_HOSTS in the test bindings: gateway.tollgate.test, api.tollgate.test; and the local
 * ones) can never be claimed and never go through hostname routing; a claimed name cannot be
 * claimed again, however many providers race for it.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../worker/env";
import {
  OPERATOR,
  activateHostname,
  api,
  balance,
  call,
  createProvider,
  createService,
  expectProblem,
  originUrl,
  payer,
  transfers,
  unique,
  type Payer,
} from "./helpers";

const DB = (env as unknown as Env).DB;

/** The account's audit head in its ledger: every reserve, accepted or refused, writes an event. */
async function ledgerHead(accountId: string): Promise<number> {
  const r = await api(`/v1/accounts/${accountId}/audit/verify`, { key: OPERATOR });
  expect(r.status).toBe(200);
  return r.body.ledger_head_seq;
}

/** Asserts a call on `host` reached Tollgate's JSON API, not a service: no reserve, nothing charged. */
async function expectNotRouted(host: string, p: Payer): Promise<void> {
  const head = await ledgerHead(p.accountId);
  const before = await balance(p.accountId);
  // /echo on the origin answers 200 with what it received; on the JSON API it is no endpoint.
  const res = await call("/echo/taken?q=1", { base: `http://${host}`, key: p.agentKey });
  const problem = await expectProblem(res, 404, "not_found");
  expect(problem.detail).toBe("No such endpoint.");
  expect(res.headers.get("tollgate-charge")).toBeNull();
  // The JSON API answers on the name, as on any unclaimed host.
  const root = await api("/", { base: `http://${host}` });
  expect(root.body).toEqual({ name: "tollgate", docs: "/openapi.json" });
  // Nothing was reserved (a forwarded call is always reserved first), nothing moved.
  expect(await ledgerHead(p.accountId)).toBe(head);
  expect(await balance(p.accountId)).toEqual(before);
}

let provA: { id: string; key: string };
let provB: { id: string; key: string };
let p: Payer;
beforeAll(async () => {
  [provA, provB, p] = await Promise.all([createProvider(), createProvider(), payer(1_000)]);
});

describe("a claim routes nothing until the operator activates it", () => {
  it("a pending hostname: the call goes to the JSON API, never to the provider's origin", async () => {
    const host = `${unique("pending")}.example.test`;
    const svc = await createService(provA.key, { hostnames: [host], prices: [{ per_call: 7 }] });
    expect(svc.hostnames).toMatchObject([{ hostname: host, status: "pending" }]);
    await expectNotRouted(host, p);
    expect(await transfers(p.accountId)).toHaveLength(1); // the opening credit only
  });

  it("the operator's activation makes it route; the provider's own attempt is refused and changes nothing", async () => {
    const host = `${unique("activate")}.example.test`;
    const svc = await createService(provA.key, { hostnames: [host], prices: [{ per_call: 7 }] });
    for (const key of [provA.key, provB.key, p.ownerKey, p.agentKey]) {
      const res = await call(`/v1/services/${svc.id}/hostnames/${host}/activate`, { method: "POST", key });
      await expectProblem(res, 403, "forbidden");
    }
    const after = await api(`/v1/services/${svc.id}`, { key: provA.key });
    expect(after.body.hostnames).toMatchObject([{ hostname: host, status: "pending", activated_at: null }]);
    await expectNotRouted(host, p);

    await activateHostname(svc.id, host);
    const before = (await balance(p.accountId)).available;
    const res = await call("/echo/now?q=1", { base: `http://${host}`, key: p.agentKey });
    expect(res.status).toBe(200);
    expect(await res.json<any>()).toMatchObject({ path: "/echo/now", query: "?q=1" });
    expect(res.headers.get("tollgate-charge")).toBe("7");
    expect((await balance(p.accountId)).available).toBe(before - 7);
  });

  it("a hostname removed from a service stops routing at once, and another provider's new claim of it starts pending", async () => {
    const host = `${unique("moved")}.example.test`;
    const a = await createService(provA.key, { hostnames: [host] });
    await activateHostname(a.id, host);
    const released = await api(`/v1/services/${a.id}`, { method: "PATCH", key: provA.key, body: { hostnames: [] } });
    expect(released.status).toBe(200);
    await expectNotRouted(host, p);
    const b = await createService(provB.key, { hostnames: [host] });
    expect(b.hostnames).toMatchObject([{ hostname: host, status: "pending", activated_at: null }]);
    await expectNotRouted(host, p);
  });
});

describe("the gateway's own hosts", () => {
  for (const host of ["gateway.tollgate.test", "api.tollgate.test"]) {
    it(`${host} cannot be claimed, on create or PATCH (409 hostname_reserved), and nothing changes`, async () => {
      const slug = unique("gw");
      const body = { slug, name: "n", origin: originUrl(), prices: [{ per_call: 1 }], hostnames: [`${unique("ok")}.example.test`, host] };
      const problem = await expectProblem(await call("/v1/services", { key: provA.key, body }), 409, "hostname_reserved");
      expect(problem.hostnames).toEqual([host]);
      expect((await api("/v1/services", { key: provA.key, body: { ...body, hostnames: [] } })).status).toBe(201); // the slug was not taken

      const svc = await createService(provA.key);
      await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: provA.key, body: { hostnames: [host] } }), 409, "hostname_reserved");
      const row = await DB.prepare("SELECT COUNT(*) AS n FROM service_hostnames WHERE hostname = ?").bind(host).first<{ n: number }>();
      expect(row?.n).toBe(0);
    });
  }

  it("the operator cannot claim them either", async () => {
    const body = { slug: unique("gw"), name: "n", origin: originUrl(), prices: [{ per_call: 1 }], provider_id: provA.id, hostnames: ["gateway.tollgate.test"] };
    await expectProblem(await call("/v1/services", { key: OPERATOR, body }), 409, "hostname_reserved");
  });

  it("local hosts and IP addresses are not hostnames (400)", async () => {
    for (const host of ["127.0.0.1", "10.0.0.1", "localhost"]) {
      const body = { slug: unique("ip"), name: "n", origin: originUrl(), prices: [{ per_call: 1 }], hostnames: [host] };
      await expectProblem(await call("/v1/services", { key: provA.key, body }), 400, "invalid_request");
    }
  });

  it("requests to a gateway host never go through hostname routing, even with an active claim stored for it", async () => {
    // As if claimed before the operator listed the host in GATEWAY_HOSTS: the row is there and active.
    const svc = await createService(provA.key, { prices: [{ per_call: 5 }] });
    await DB.prepare("INSERT INTO service_hostnames (hostname, service_id, status, challenge, activated_at) VALUES (?, ?, 'active', 'x', 1)")
      .bind("gateway.tollgate.test", svc.id)
      .run();
    try {
      const me = await api("/v1/me", { base: "http://gateway.tollgate.test", key: p.agentKey });
      expect(me.status).toBe(200);
      expect(me.body.account_id).toBe(p.accountId);
      const echo = await call("/echo/x", { base: "http://gateway.tollgate.test", key: p.agentKey });
      await expectProblem(echo, 404, "not_found");
    } finally {
      await DB.prepare("DELETE FROM service_hostnames WHERE hostname = ?").bind("gateway.tollgate.test").run();
    }
  });
});

describe("one claim per hostname", () => {
  it("a hostname claimed by another service, pending or active, is 409 hostname_taken; nothing is half-created", async () => {
    const pending = `${unique("held")}.example.test`;
    const active = `${unique("live")}.example.test`;
    const owner = await createService(provA.key, { hostnames: [pending, active] });
    await activateHostname(owner.id, active);
    for (const host of [pending, active]) {
      const slug = unique("thief");
      const body = { slug, name: "n", origin: originUrl(), prices: [{ per_call: 1 }], hostnames: [host] };
      await expectProblem(await call("/v1/services", { key: provB.key, body }), 409, "hostname_taken");
      const svc = await createService(provB.key);
      await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: provB.key, body: { hostnames: [host] } }), 409, "hostname_taken");
      expect((await api(`/v1/services/${svc.id}`, { key: provB.key })).body.hostnames).toEqual([]);
    }
    const still = await api(`/v1/services/${owner.id}`, { key: provA.key });
    expect(still.body.hostnames).toEqual(
      owner.hostnames.map((h: any) => (h.hostname === active ? { ...h, status: "active", activated_at: expect.any(String) } : h)),
    );
  });

  it("providers racing for one hostname: exactly one wins, the rest get 409 hostname_taken", async () => {
    const host = `${unique("race")}.example.test`;
    const racers = await Promise.all(Array.from({ length: 6 }, () => createProvider()));
    const results = await Promise.all(
      racers.map((r) =>
        api("/v1/services", { key: r.key, body: { slug: unique("racer"), name: "n", origin: originUrl(), prices: [{ per_call: 1 }], hostnames: [host] } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.code).toBe("hostname_taken");
    const rows = await DB.prepare("SELECT service_id, status FROM service_hostnames WHERE hostname = ?").bind(host).all();
    expect(rows.results).toEqual([{ service_id: results.find((r) => r.status === 201)?.body.id, status: "pending" }]);
  });
});
