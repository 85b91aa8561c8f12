/**
 * Keys: every way a key can be wrong gets the same answer (nothing tells a guesser which part
 * was wrong), and a client that keeps failing is throttled before its keys cost a lookup.
 * The throttle's default (20 failures per client per minute) is exercised with an env override;
 * the test binding raises it because the route suites send hundreds of bad keys from one client.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import type { Env } from "../../worker/env";
import { api, balance, call, createAgentKey, createProvider, createService, expectProblem, flip, GATEWAY, payer, type Payer } from "./helpers";

let svc: { id: string; slug: string };
let p: Payer;
let other: Payer;
let revoked: string;
beforeAll(async () => {
  const prov = await createProvider();
  svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
  p = await payer(1_000);
  other = await payer(1_000);
  const doomed = await createAgentKey(p.accountId, p.ownerKey, "doomed");
  const r = await api(`/v1/accounts/${p.accountId}/agent-keys/${doomed.id}`, { method: "DELETE", key: p.ownerKey });
  expect(r.status).toBe(200);
  revoked = doomed.key;
});

/** The key with its account id part changed: it names another account, whose ledger does not know it. */
function foreign(key: string): string {
  const idStart = key.indexOf("_", 3) + 1;
  return flip(key, idStart + 2);
}

describe("a wrong agent key: one answer, whatever is wrong with it", () => {
  const wrongKeys = () => ({
    truncated: p.agentKey.slice(0, -1),
    "one character of the secret flipped": flip(p.agentKey),
    "secret of another key of the same account": `${p.agentKey.slice(0, p.agentKey.lastIndexOf("_") + 1)}${other.agentKey.slice(other.agentKey.lastIndexOf("_") + 1)}`,
    "account id changed (foreign)": foreign(p.agentKey),
    "another account's id with this secret": `${other.agentKey.slice(0, other.agentKey.lastIndexOf("_") + 1)}${p.agentKey.slice(p.agentKey.lastIndexOf("_") + 1)}`,
    revoked,
    "not a key at all": "sk-not-a-tollgate-key",
    "upper-cased": p.agentKey.toUpperCase(),
  });

  it("the proxy and /v1/me answer 401 with byte-identical problem bodies, and nothing is charged", async () => {
    const before = await balance(p.accountId);
    const bodies = new Set<string>();
    for (const [what, key] of Object.entries(wrongKeys())) {
      for (const path of [`/s/${svc.slug}/echo`, "/v1/me"]) {
        const res = await call(path, { key });
        expect(res.status, `${what} on ${path}`).toBe(401);
        expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        expect(res.headers.get("www-authenticate")).toBeNull();
        bodies.add(await res.text());
      }
    }
    expect([...bodies]).toHaveLength(1);
    expect(JSON.parse([...bodies][0] as string)).toEqual({
      type: "https://tollgate.dev/problems/invalid-key",
      title: "The key is not valid",
      status: 401,
      detail: "The key is not valid",
      code: "invalid_key",
    });
    expect(await balance(p.accountId)).toEqual(before);
  });

  it("sent as x-api-key: the same answer", async () => {
    const res = await call(`/s/${svc.slug}/echo`, { headers: { "x-api-key": revoked } });
    const a = await expectProblem(res, 401, "invalid_key");
    const b = await expectProblem(await call(`/s/${svc.slug}/echo`, { key: flip(p.agentKey) }), 401, "invalid_key");
    expect(a).toEqual(b);
  });

  it("a valid key of another account on this account's objects: 404, the same as for no such account (IDOR)", async () => {
    for (const suffix of ["", "/balance", "/transfers", "/agent-keys", "/mandates"]) {
      const theirs = await expectProblem(await call(`/v1/accounts/${p.accountId}${suffix}`, { key: other.agentKey }), 404, "not_found");
      const none = await expectProblem(await call(`/v1/accounts/acct_00000000000000000000${suffix}`, { key: other.agentKey }), 404, "not_found");
      expect(theirs).toEqual(none);
    }
  });
});

/** The Worker with the production default for the throttle (AUTH_FAILURE_LIMIT unset: 20/min). */
async function withDefaults(
  path: string,
  init: RequestInit & { key?: string; ip?: string } = {},
  overrides: Partial<Record<keyof Env, unknown>> = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  if (init.ip) headers.set("cf-connecting-ip", init.ip);
  const { AUTH_FAILURE_LIMIT: _, ...rest } = env as unknown as Env;
  const ctx = createExecutionContext();
  const res = await buildApp().fetch(new Request(`${GATEWAY}${path}`, { ...init, headers, redirect: "manual" }), { ...rest, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

let ipCounter = 0;
/** A client address of its own per test (the limiter is per isolate and outlives a test). */
function freshIp(): string {
  ipCounter += 1;
  return `198.51.100.${ipCounter}`;
}

/** Throws on any use: proof that a request was answered without touching D1 or a Durable Object. */
function trap(name: string, touched: string[]): unknown {
  return new Proxy(
    {},
    {
      get(_, prop) {
        touched.push(`${name}.${String(prop)}`);
        throw new Error(`${name} was used`);
      },
    },
  );
}

describe("failed authentications are throttled per client (default: 20 per minute)", () => {
  it("successes do not count; the 21st credentialed request after 20 failures is 429 with Retry-After, even with a valid key", async () => {
    const ip = freshIp();
    for (let i = 0; i < 25; i++) {
      const ok = await withDefaults("/v1/me", { key: p.agentKey, ip });
      expect(ok.status, `success ${i}`).toBe(200);
      await ok.body?.cancel();
    }
    // Twenty failures of every kind, on every surface that verifies keys.
    const failures: [string, string | undefined, Record<string, string>][] = [
      ["/v1/me", flip(p.agentKey), {}],
      [`/s/${svc.slug}/echo`, revoked, {}],
      [`/s/${svc.slug}/echo`, "garbage", {}],
      ["/v1/services", "tg_prov_00000000000000000000_00000000000000000000000000000000", {}],
      [`/v1/accounts/${p.accountId}`, flip(p.ownerKey), {}],
      [`/s/${svc.slug}/echo`, undefined, { "x-api-key": foreign(p.agentKey) }],
      ["/v1/providers", "not-the-operator-token", {}],
    ];
    for (let i = 0; i < 20; i++) {
      const [path, key, headers] = failures[i % failures.length] as (typeof failures)[number];
      await expectProblem(await withDefaults(path, { key, ip, headers }), 401, "invalid_key");
    }
    const before = await balance(p.accountId);
    for (const req of [
      { path: "/v1/me", key: p.agentKey },
      { path: `/s/${svc.slug}/echo`, key: p.agentKey },
      { path: `/v1/accounts/${p.accountId}/balance`, key: p.ownerKey },
      { path: "/v1/me", headers: { "x-api-key": p.agentKey } },
    ]) {
      const res = await withDefaults(req.path, { ...req, ip });
      const problem = await expectProblem(res, 429, "rate_limited");
      const wait = Number(res.headers.get("retry-after"));
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
      expect(problem.retry_after).toBe(wait);
      expect(problem.detail).toMatch(/failed authentications/);
    }
    expect(await balance(p.accountId)).toEqual(before);

    // Requests without a credential are not this limiter's business.
    const open = await withDefaults(`/v1/services/${svc.id}/pricing`, { ip });
    expect(open.status).toBe(200);
    await open.body?.cancel();
    // Another client is unaffected.
    const elsewhere = await withDefaults("/v1/me", { key: p.agentKey, ip: freshIp() });
    expect(elsewhere.status).toBe(200);
    await elsewhere.body?.cancel();
  });

  it("nineteen failures are not enough, and successes in between do not reset the count", async () => {
    const ip = freshIp();
    for (let i = 0; i < 19; i++) {
      await expectProblem(await withDefaults("/v1/me", { key: flip(p.agentKey), ip }), 401, "invalid_key");
      const ok = await withDefaults("/v1/me", { key: p.agentKey, ip });
      expect(ok.status).toBe(200);
      await ok.body?.cancel();
    }
    await expectProblem(await withDefaults("/v1/me", { key: flip(p.agentKey), ip }), 401, "invalid_key");
    await expectProblem(await withDefaults("/v1/me", { key: p.agentKey, ip }), 429, "rate_limited");
  });

  it("a throttled client is answered before any D1 or Durable Object lookup", async () => {
    const ip = freshIp();
    for (let i = 0; i < 20; i++) await expectProblem(await withDefaults(`/s/${svc.slug}/echo`, { key: flip(p.agentKey), ip }), 401, "invalid_key");
    const touched: string[] = [];
    const noStorage = { DB: trap("DB", touched), ACCOUNT: trap("ACCOUNT", touched) };
    for (const [path, key] of [
      [`/s/${svc.slug}/echo`, p.agentKey],
      [`/s/never-cached-${ip}/echo`, p.agentKey], // an unknown slug would need a D1 query
      ["/v1/me", p.agentKey],
      [`/v1/accounts/${p.accountId}`, p.ownerKey],
      ["/v1/services", "tg_prov_00000000000000000000_00000000000000000000000000000000"],
    ] as const) {
      await expectProblem(await withDefaults(path, { key, ip }, noStorage), 429, "rate_limited");
    }
    expect(touched).toEqual([]);
  });

  it("IPv6 clients are counted by /64: rotating the interface id does not reset the count", async () => {
    for (let i = 0; i < 20; i++) {
      await expectProblem(await withDefaults("/v1/me", { key: flip(p.agentKey), ip: `2001:db8:7:7::${(i + 1).toString(16)}` }), 401, "invalid_key");
    }
    await expectProblem(await withDefaults("/v1/me", { key: p.agentKey, ip: "2001:db8:7:7:ffff::1" }), 429, "rate_limited");
    const neighbour = await withDefaults("/v1/me", { key: p.agentKey, ip: "2001:db8:7:8::1" });
    expect(neighbour.status).toBe(200);
    await neighbour.body?.cancel();
  });

  it("the test binding raises the limit (AUTH_FAILURE_LIMIT), so the shared suites are not throttled", async () => {
    for (let i = 0; i < 30; i++) await expectProblem(await call("/v1/me", { key: flip(p.agentKey) }), 401, "invalid_key");
    const ok = await call("/v1/me", { key: p.agentKey });
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
  });
});
