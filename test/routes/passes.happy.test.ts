import { describe, expect, it } from "vitest";
import { api, balance, call, postMandate, boundKey } from "./helpers";
import { buyPass, paidOrPass, passWorld } from "./pass-helpers";

describe("passes over the API", () => {
  it("an agent buys a 3-call pass: charged once like a call, then 3 calls for 0, then per call again", async () => {
    const w = await passWorld([{ name: "three", price: 2_500, calls: 3 }]);
    const bought = await buyPass(w.p.agentKey, { plan_id: w.plans.three });
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    expect(bought.body).toMatchObject({
      id: expect.stringMatching(/^pass_[0-9a-z]{20}$/),
      plan_id: w.plans.three,
      service_id: w.svc.id,
      status: "active",
      calls: 3,
      calls_left: 3,
      expires_at: null,
      agent_key_id: w.p.agentKeyId,
    });
    expect((await balance(w.p.accountId)).posted).toBe(1_000_000 - 2_500);
    const calls = [];
    for (let i = 0; i < 4; i++) calls.push(await paidOrPass(w));
    expect(calls).toEqual([
      { status: 200, charge: "0", pass: bought.body.id },
      { status: 200, charge: "0", pass: bought.body.id },
      { status: 200, charge: "0", pass: bought.body.id },
      { status: 200, charge: "1000", pass: null },
    ]);
    const passes = await api(`/v1/accounts/${w.p.accountId}/passes`, { key: w.p.ownerKey });
    expect(passes.body.data).toMatchObject([{ id: bought.body.id, status: "used_up", calls_left: 0 }]);
    const journal = await api(`/v1/accounts/${w.p.accountId}/transfers?limit=10`, { key: w.p.ownerKey });
    const purchase = journal.body.data.find((t: any) => t.reason === "pass_purchase");
    expect(purchase).toMatchObject({
      kind: "capture",
      amount: 2_500,
      hold_id: null,
      reference: bought.body.id,
      service_id: w.svc.id,
      agent_key_id: w.p.agentKeyId,
    });
  });

  it("50 calls at once on a 5-call pass: exactly 5 are served by it", async () => {
    const w = await passWorld([{ name: "five", price: 100, calls: 5 }]);
    expect((await buyPass(w.p.agentKey, { plan_id: w.plans.five })).status).toBe(201);
    const results = await Promise.all(Array.from({ length: 50 }, () => paidOrPass(w)));
    expect(results.filter((r) => r.pass !== null && r.charge === "0")).toHaveLength(5);
    expect(results.filter((r) => r.pass === null && r.charge === "1000")).toHaveLength(45);
  });

  it("a pass-only plan refuses calls without a pass (402), and a failed call gives its pass call back", async () => {
    const w = await passWorld([{ name: "only", price: 100, calls: 1, pass_only: true }]);
    const refused = await call(`/s/${w.svc.slug}/echo`, { key: w.p.agentKey });
    expect(refused.status).toBe(402);
    expect(await refused.json()).toMatchObject({ code: "pass_required" });
    await buyPass(w.p.agentKey, { plan_id: w.plans.only });
    expect((await paidOrPass(w, "/status/503")).status).toBe(502);
    expect(await paidOrPass(w)).toMatchObject({ status: 200, charge: "0" });
    expect((await paidOrPass(w)).status).toBe(402);
  });

  it("the same Idempotency-Key buys once; the owner buys too, and cancels the renewal", async () => {
    const w = await passWorld([{ name: "day", price: 700, duration_s: 86_400 }]);
    const first = await buyPass(w.p.agentKey, { plan_id: w.plans.day, auto_renew: true }, { "idempotency-key": "p-1" });
    const again = await buyPass(w.p.agentKey, { plan_id: w.plans.day, auto_renew: true }, { "idempotency-key": "p-1" });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect((await balance(w.p.accountId)).posted).toBe(1_000_000 - 700);
    const owners = await buyPass(w.p.ownerKey, { plan_id: w.plans.day, auto_renew: true });
    expect(owners.body).toMatchObject({ agent_key_id: null, auto_renew: true });
    // The agent cannot cancel the owner's pass; the owner can, and the pass runs on.
    expect((await api(`/v1/passes/${owners.body.id}`, { method: "DELETE", key: w.p.agentKey })).status).toBe(404);
    const cancelled = await api(`/v1/passes/${owners.body.id}`, { method: "DELETE", key: w.p.ownerKey });
    expect(cancelled.body).toMatchObject({ status: "active", auto_renew: false });
    expect((await api(`/v1/passes/${first.body.id}`, { method: "DELETE", key: w.p.agentKey })).body).toMatchObject({ auto_renew: false });
  });

  it("a key's mandate bounds a purchase like a call", async () => {
    const w = await passWorld([{ name: "big", price: 5_000, calls: 10 }]);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const small = await postMandate(w.p.accountId, w.p.ownerKey, { intent: "small", max_total: 100_000, max_per_call: 4_999, valid_until: until });
    const key = await boundKey(w.p.accountId, w.p.ownerKey, small.id);
    const refused = await buyPass(key.key, { plan_id: w.plans.big });
    expect([refused.status, refused.body.code]).toEqual([403, "mandate_per_call_exceeded"]);
    expect((await balance(w.p.accountId)).posted).toBe(1_000_000);
  });
});
