import { describe, expect, it } from "vitest";
import { api, balance, call, createProvider, createService, expectProblem, OPERATOR, payer } from "./helpers";

// Velocity limits set by the owner and the operator's kill switch, both enforced in the
// account's ledger before any money is held.

async function setup(price = 100) {
  const prov = await createProvider();
  const svc = await createService(prov.key, { prices: [{ per_call: price }] });
  return { svc, p: await payer(100_000) };
}

const statuses = async (slug: string, key: string, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call(`/s/${slug}/echo`, { key });
    out.push(res.status);
    await res.body?.cancel();
  }
  return out;
};

describe("velocity limits", () => {
  it("calls per minute: the call past the limit is 429 with Retry-After, and costs nothing", async () => {
    const { svc, p } = await setup();
    const key = await api(`/v1/accounts/${p.accountId}/agent-keys`, { key: p.ownerKey, body: { name: "slow", max_calls_per_minute: 3 } });
    expect(key.body).toMatchObject({ max_calls_per_minute: 3, max_spend_per_minute: null });
    expect(await statuses(svc.slug, key.body.key, 3)).toEqual([200, 200, 200]);
    const over = await call(`/s/${svc.slug}/echo`, { key: key.body.key });
    const retryAfter = Number(over.headers.get("retry-after"));
    await expectProblem(over, 429, "rate_limited");
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await balance(p.accountId)).toMatchObject({ posted: 100_000 - 300, pending: 0 });
  });

  it("spend per minute counts held amounts; racing calls cannot pass it", async () => {
    const { svc, p } = await setup(100);
    const key = await api(`/v1/accounts/${p.accountId}/agent-keys`, { key: p.ownerKey, body: { name: "capped", max_spend_per_minute: 1_000 } });
    const results = await Promise.all(Array.from({ length: 30 }, () => call(`/s/${svc.slug}/echo`, { key: key.body.key })));
    const codes = results.map((r) => r.status);
    for (const r of results) await r.body?.cancel();
    expect(codes.filter((s) => s === 200)).toHaveLength(10);
    expect(codes.filter((s) => s === 429)).toHaveLength(20);
  });

  it("the owner can lift or change a limit, effective on the next call", async () => {
    const { svc, p } = await setup();
    const key = await api(`/v1/accounts/${p.accountId}/agent-keys`, { key: p.ownerKey, body: { name: "k", max_calls_per_minute: 1 } });
    expect(await statuses(svc.slug, key.body.key, 2)).toEqual([200, 429]);
    const patched = await api(`/v1/accounts/${p.accountId}/agent-keys/${key.body.id}`, {
      method: "PATCH",
      key: p.ownerKey,
      body: { max_calls_per_minute: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.max_calls_per_minute).toBeNull();
    expect(await statuses(svc.slug, key.body.key, 2)).toEqual([200, 200]);
  });

  it("bad limits are 400", async () => {
    const { p } = await setup();
    for (const body of [
      { name: "x", max_calls_per_minute: 0 },
      { name: "x", max_spend_per_minute: -1 },
      { name: "x", max_calls_per_minute: 1.5 },
    ]) {
      const res = await api(`/v1/accounts/${p.accountId}/agent-keys`, { key: p.ownerKey, body });
      expect(res.status).toBe(400);
    }
  });
});

describe("the operator's kill switch", () => {
  it("freezing a key refuses its next call at once (403 key_frozen); unfreezing restores it", async () => {
    const { svc, p } = await setup();
    const freeze = (frozen: boolean) =>
      api(`/v1/accounts/${p.accountId}/agent-keys/${p.agentKeyId}/frozen`, { method: "PUT", key: OPERATOR, body: { frozen } });
    expect((await freeze(true)).body.frozen_at).toEqual(expect.any(String));
    await expectProblem(await call(`/s/${svc.slug}/echo`, { key: p.agentKey }), 403, "key_frozen");
    expect((await freeze(false)).body.frozen_at).toBeNull();
    expect(await statuses(svc.slug, p.agentKey, 1)).toEqual([200]);
  });

  it("freezing an account refuses every key's calls; only the operator may", async () => {
    const { svc, p } = await setup();
    const put = (key: string, frozen: boolean) => api(`/v1/accounts/${p.accountId}/frozen`, { method: "PUT", key, body: { frozen } });
    expect((await put(p.ownerKey, true)).status).toBe(403);
    expect((await put(OPERATOR, true)).body).toEqual({ frozen: true });
    await expectProblem(await call(`/s/${svc.slug}/echo`, { key: p.agentKey }), 403, "account_frozen");
    expect(await balance(p.accountId)).toMatchObject({ posted: 100_000, pending: 0 });
    await put(OPERATOR, false);
    expect(await statuses(svc.slug, p.agentKey, 1)).toEqual([200]);
  });

  it("freezes and limit changes are in the audit trail", async () => {
    const { p } = await setup();
    await api(`/v1/accounts/${p.accountId}/frozen`, { method: "PUT", key: OPERATOR, body: { frozen: true } });
    await api(`/v1/accounts/${p.accountId}/agent-keys/${p.agentKeyId}/frozen`, { method: "PUT", key: OPERATOR, body: { frozen: true } });
    const audit = await api(`/v1/accounts/${p.accountId}/audit`, { key: p.ownerKey });
    expect(audit.status).toBe(200);
    const events = audit.body.data.map((e: { event: string; actor: string }) => `${e.event}:${e.actor}`);
    expect(events).toEqual(expect.arrayContaining(["account_frozen:operator", "key_frozen:operator"]));
  });
});
