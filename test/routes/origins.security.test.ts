/**
 * SSRF: a provider's origin must be a public internet address unless the operator runs the
 * gateway for local development (ALLOW_PRIVATE_ORIGINS = "true"). The test binding turns it on
 * (the demo origin listens on 127.0.0.1); the production setting ("false"/unset) is exercised by
 * calling the same app with an env override.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import type { Env } from "../../worker/env";
import {
  OPERATOR,
  api,
  balance,
  call,
  createProvider,
  createService,
  expectProblem,
  GATEWAY,
  originUrl,
  payer,
  transfers,
  unique,
  type Payer,
} from "./helpers";

/** The same Worker with the production setting: private origins refused. */
async function production(path: string, init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  let body: string | undefined;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers.set("content-type", "application/json");
  }
  const { ALLOW_PRIVATE_ORIGINS: _, ...rest } = env as unknown as Env; // unset: the production default
  const ctx = createExecutionContext();
  const res = await buildApp().fetch(
    new Request(`${GATEWAY}${path}`, { method: init.method ?? (body ? "POST" : "GET"), headers, body, redirect: "manual" }),
    rest,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** The account's audit head in its ledger: every reserve, accepted or refused, writes an event. */
async function ledgerHead(accountId: string): Promise<number> {
  const r = await api(`/v1/accounts/${accountId}/audit/verify`, { key: OPERATOR });
  expect(r.status).toBe(200);
  return r.body.ledger_head_seq;
}

let prov: { id: string; key: string };
let p: Payer;
beforeAll(async () => {
  prov = await createProvider();
  p = await payer(1_000_000);
});

const PRIVATE = [
  "http://127.0.0.1:9000",
  "http://2130706433",
  "http://10.1.2.3",
  "http://172.20.0.5/api",
  "http://192.168.0.10",
  "http://169.254.169.254/latest/meta-data",
  "http://100.100.100.200",
  "http://0.0.0.0:8080",
  "http://[::1]:8080",
  "http://[fd00::1]",
  "http://[fe80::1]",
  "http://[::ffff:10.0.0.1]",
  "http://localhost:8787",
  "http://svc.localhost",
  "http://db.internal",
  "http://printer.local",
];

describe("ALLOW_PRIVATE_ORIGINS unset (production)", () => {
  it.each(PRIVATE)("creating a service with origin %s is 400 invalid_request, naming the origin and the setting; nothing is created", async (origin) => {
    const slug = unique("ssrf");
    const res = await production("/v1/services", { key: prov.key, body: { slug, name: "x", origin, prices: [{ per_call: 1 }] } });
    const problem = await expectProblem(res, 400, "invalid_request");
    expect(problem.detail).toMatch(/^origin: .+ is (a|an|the) .+; origins must be public internet addresses/);
    expect(problem.detail).toContain("ALLOW_PRIVATE_ORIGINS");
    expect(problem.errors).toEqual([{ path: "origin", message: expect.any(String) }]);
    const listed = await api("/v1/services?limit=100", { key: prov.key });
    expect(listed.body.data.map((s: { slug: string }) => s.slug)).not.toContain(slug);
  });

  it("a public origin is accepted", async () => {
    const res = await production("/v1/services", {
      key: prov.key,
      body: { slug: unique("pub"), name: "x", origin: "https://api.example.com/v1", prices: [{ per_call: 1 }] },
    });
    expect(res.status).toBe(201);
  });

  it("the operator creating on a provider's behalf is held to the same rule", async () => {
    const body = { slug: unique("op"), name: "x", origin: "http://10.0.0.1", prices: [{ per_call: 1 }], provider_id: prov.id };
    await expectProblem(await production("/v1/services", { key: OPERATOR, body }), 400, "invalid_request");
  });

  it("PATCH to a private origin is 400 and changes nothing; other changes still work", async () => {
    const svc = await createService(prov.key, { origin: "https://api.example.com" });
    const res = await production(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { origin: "http://169.254.169.254" } });
    const problem = await expectProblem(res, 400, "invalid_request");
    expect(problem.detail).toMatch(/169\.254\.169\.254 is a link-local address/);
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.origin).toBe("https://api.example.com");
    const renamed = await production(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { name: "renamed" } });
    expect(renamed.status).toBe(200);
  });

  it("PATCH of another provider's service is still 404 first (the origin rule leaks nothing)", async () => {
    const other = await createProvider();
    const svc = await createService(other.key, { origin: "https://api.example.com" });
    await expectProblem(await production(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { origin: "http://10.0.0.1" } }), 404, "not_found");
  });

  it("a service stored while private origins were allowed is not forwarded: 502 origin_not_allowed before any reserve, nothing charged", async () => {
    // Stored through the test binding (allowed), as on a developer's machine…
    const svc = await createService(prov.key, { prices: [{ per_call: 5 }] });
    expect(svc.origin).toBe(originUrl());
    // …and called where the setting is off.
    const before = { balance: await balance(p.accountId), journal: (await transfers(p.accountId, "?limit=100")).length, head: await ledgerHead(p.accountId) };
    for (const method of ["GET", "POST"]) {
      const res = await production(`/s/${svc.slug}/echo`, { method, key: p.agentKey, ...(method === "POST" ? { body: { a: 1 } } : {}) });
      const problem = await expectProblem(res, 502, "origin_not_allowed");
      expect(problem.detail).not.toContain("127.0.0.1"); // the origin's address is the provider's business
      expect(res.headers.get("tollgate-charge")).toBe("0");
      expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    }
    expect(await balance(p.accountId)).toEqual(before.balance);
    expect(await transfers(p.accountId, "?limit=100")).toHaveLength(before.journal);
    // No reserve ran at all: not even a refused hold is on the ledger's audit trail.
    expect(await ledgerHead(p.accountId)).toBe(before.head);
  });

  it("no key on such a service is still 402 payment_required (payment comes before the origin check)", async () => {
    const svc = await createService(prov.key);
    await expectProblem(await production(`/s/${svc.slug}/echo`), 402, "payment_required");
  });
});

describe("ALLOW_PRIVATE_ORIGINS = true (the test binding: local development)", () => {
  it("a loopback origin is accepted and forwarded", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("tollgate-charge")).toBe("1");
    await res.body?.cancel();
  });

  it("a private origin may be set by PATCH", async () => {
    const svc = await createService(prov.key, { origin: "https://api.example.com" });
    const r = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { origin: "http://10.0.0.7:8080" } });
    expect(r.status).toBe(200);
    expect(r.body.origin).toBe("http://10.0.0.7:8080");
  });

  it("the shape rules still hold: credentials, query, fragment and other schemes are refused", async () => {
    for (const origin of ["http://user:pw@127.0.0.1", "http://127.0.0.1/?a=1", "http://127.0.0.1/#x", "file:///etc/passwd", "ftp://127.0.0.1", "/relative"]) {
      const r = await api("/v1/services", { key: prov.key, body: { slug: unique("shape"), name: "x", origin, prices: [{ per_call: 1 }] } });
      expect(r.status, origin).toBe(400);
    }
  });
});
