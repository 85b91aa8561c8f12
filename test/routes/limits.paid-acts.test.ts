import { describe, expect, it } from "vitest";
import { api, balance, call } from "./helpers";
import { buyPass, passWorld } from "./pass-helpers";

// A key's per-minute limits bound everything it spends, not only its calls: a pass it buys and a
// tip it sends count as paid acts, with their amounts as spend, in the same windows as calls.

describe("velocity limits and paid acts other than calls", () => {
  it("spend per minute: calls, a pass and tips share the key's window; what is past it is 429 and moves nothing", async () => {
    const w = await passWorld([{ name: "two", price: 300, calls: 2 }]);
    const key = await api(`/v1/accounts/${w.p.accountId}/agent-keys`, { key: w.p.ownerKey, body: { name: "capped", max_spend_per_minute: 2_000 } });
    const agent = key.body.key as string;
    const paid = await call(`/s/${w.svc.slug}/echo`, { key: agent }); // 1000 of 2000
    expect(paid.status).toBe(200);
    await paid.body?.cancel();
    expect((await buyPass(agent, { plan_id: w.plans.two })).status).toBe(201); // 1300
    const tip = (amount: number) => api("/v1/tips", { key: agent, body: { service_id: w.svc.id, amount } });
    expect((await tip(600)).status).toBe(201); // 1900
    const before = await balance(w.p.accountId);
    const over = await tip(200);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ code: "rate_limited" });
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    const pass = await buyPass(agent, { plan_id: w.plans.two });
    expect([pass.status, pass.body.code]).toEqual([429, "rate_limited"]);
    expect(await balance(w.p.accountId)).toEqual(before);
    // The owner's own tips are not the key's: no window applies to them.
    expect((await api("/v1/tips", { key: w.p.ownerKey, body: { service_id: w.svc.id, amount: 200 } })).status).toBe(201);
  });

  it("calls per minute: a tip counts as one of the key's acts", async () => {
    const w = await passWorld([]);
    const key = await api(`/v1/accounts/${w.p.accountId}/agent-keys`, { key: w.p.ownerKey, body: { name: "two-acts", max_calls_per_minute: 2 } });
    const tip = () => api("/v1/tips", { key: key.body.key, body: { service_id: w.svc.id, amount: 10 } });
    expect((await tip()).status).toBe(201);
    expect((await tip()).status).toBe(201);
    expect((await tip()).status).toBe(429);
    const res = await call(`/s/${w.svc.slug}/echo`, { key: key.body.key });
    expect(res.status).toBe(429);
    await res.body?.cancel();
  });
});
