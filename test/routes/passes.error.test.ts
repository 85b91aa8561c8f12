import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, balance, payer } from "./helpers";
import { buyPass, type PassWorld, passWorld } from "./pass-helpers";

let w: PassWorld;
beforeAll(async () => {
  w = await passWorld([
    { name: "ten", price: 1_000, calls: 10 },
    { name: "week", price: 3_000, duration_s: 604_800 },
  ]);
});

describe("buying a pass: bad requests change nothing", () => {
  it.each([
    ["no plan_id", {}],
    ["an unknown field", { plan_id: "pln_x", amount: 5 }],
    ["auto_renew as a string", { plan_id: "pln_x", auto_renew: "yes" }],
  ])("%s is 400", async (_, body) => {
    const r = await buyPass(w.p.agentKey, body);
    expect([r.status, r.body.code]).toEqual([400, "invalid_request"]);
    expect((await balance(w.p.accountId)).posted).toBe(1_000_000);
  });

  it("an unknown plan is 404; auto_renew on a bundle with no duration is 400", async () => {
    expect((await buyPass(w.p.agentKey, { plan_id: "pln_doesnotexist00000000" })).status).toBe(404);
    const r = await buyPass(w.p.agentKey, { plan_id: w.plans.ten, auto_renew: true });
    expect([r.status, r.body.code]).toEqual([400, "invalid_request"]);
    expect((await balance(w.p.accountId)).posted).toBe(1_000_000);
  });

  it("providers and the operator do not buy passes (403); more than the balance is 402", async () => {
    expect((await buyPass(w.prov.key, { plan_id: w.plans.ten })).status).toBe(403);
    expect((await buyPass(OPERATOR, { plan_id: w.plans.ten })).status).toBe(403);
    const poor = await payer(999);
    const r = await buyPass(poor.agentKey, { plan_id: w.plans.ten });
    expect(r.status).toBe(402);
    expect(r.body).toMatchObject({ code: "insufficient_funds", price: 1_000, available: 999 });
  });

  it("another account's owner sees neither the passes nor the cancel of this one", async () => {
    const bought = await buyPass(w.p.agentKey, { plan_id: w.plans.week });
    const stranger = await payer(10);
    expect((await api(`/v1/accounts/${w.p.accountId}/passes`, { key: stranger.ownerKey })).status).toBe(404);
    expect((await api(`/v1/passes/${bought.body.id}`, { method: "DELETE", key: stranger.ownerKey })).status).toBe(404);
    expect((await api(`/v1/passes/${bought.body.id}`, { method: "DELETE", key: w.prov.key })).status).toBe(403);
  });
});
