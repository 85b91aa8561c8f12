/**
 * Passes and tips end to end, over real HTTP (`wrangler dev` → the demo origin): a provider sells
 * a 3-call pass, an agent buys it and uses it up, falls back to paying per call, tips the
 * provider, and the provider's statement and the account's invoice show each line to the micro-unit.
 */
import { describe, expect, it } from "vitest";
import { eventually, gatewayWithOrigin } from "./harness.ts";

const w = gatewayWithOrigin();

describe("end to end: a pass, its fallback, a tip", () => {
  it("the pass serves 3 calls for 0, the 4th pays, the tip reaches the provider; statement and invoice agree", async () => {
    const { gw, origin, api } = w;
    const op = gw.operatorToken;
    const prov = (await api("POST", "/v1/providers", op, { name: "Pass seller" })).body;
    const slug = `pass-${Date.now().toString(36)}`;
    // Created by the operator to set a 10% fee: the pass's 5000 pays 500 of fee, a 2000 call 200.
    const svc = await api("POST", "/v1/services", op, {
      slug,
      name: "Passable",
      origin: origin.url,
      prices: [{ per_call: 2_000 }],
      provider_id: prov.id,
      fee_bps: 1_000,
      plans: [{ name: "Three calls", price: 5_000, calls: 3 }],
    });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    const planId = svc.body.plans[0].id;
    const pricing = await api("GET", `/v1/services/${svc.body.id}/pricing`, null);
    expect(pricing.body.plans).toMatchObject([{ id: planId, price: 5_000, calls: 3, duration_s: null, pass_only: false }]);

    const acct = (await api("POST", "/v1/accounts", op, { name: "payer", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: 1_000_000 });
    const key = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "bot" })).body;

    const pass = await api("POST", "/v1/passes", key.key, { plan_id: planId }, { "idempotency-key": "pass-1" });
    expect(pass.status, JSON.stringify(pass.body)).toBe(201);
    expect(pass.body).toMatchObject({ status: "active", calls_left: 3, price: 5_000 });
    const calls: { charge: string | null; pass: string | null }[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/s/${slug}/echo`, { headers: { authorization: `Bearer ${key.key}` } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
      calls.push({ charge: res.headers.get("tollgate-charge"), pass: res.headers.get("tollgate-pass") });
    }
    expect(calls).toEqual([
      { charge: "0", pass: pass.body.id },
      { charge: "0", pass: pass.body.id },
      { charge: "0", pass: pass.body.id },
      { charge: "2000", pass: null },
    ]);
    const passes = await api("GET", `/v1/accounts/${acct.id}/passes`, acct.owner_key);
    expect(passes.body.data).toMatchObject([{ id: pass.body.id, status: "used_up", calls_left: 0 }]);

    const tip = await api("POST", "/v1/tips", key.key, { service_id: svc.body.id, amount: 700, message: "thanks" }, { "idempotency-key": "tip-1" });
    expect(tip.status, JSON.stringify(tip.body)).toBe(201);
    expect(tip.body).toMatchObject({ id: expect.stringMatching(/^tip_/), amount: 700, provider_id: prov.id, message: "thanks" });
    const posted = 1_000_000 - 5_000 - 2_000 - 700;
    expect((await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body).toMatchObject({ posted, available: posted });

    const month = new Date().toISOString().slice(0, 7);
    const statement = await eventually(
      () => api("GET", `/v1/providers/${prov.id}/statements/${month}`, prov.api_key),
      (r) => expect(r.body.currencies?.[0]?.tips).toBe(700),
    );
    expect(statement.body.currencies[0]).toMatchObject({
      opening_balance: 0,
      services: [{ service_id: svc.body.id, calls: 1, passes_sold: 1, gross: 7_000, fees: 700, net: 6_300 }],
      refunds: 0,
      disputes: 0,
      tips: 700,
      payouts: 0,
      closing_balance: 7_000,
    });
    const invoice = await api("GET", `/v1/accounts/${acct.id}/invoices/${month}`, acct.owner_key);
    expect(invoice.body).toMatchObject({
      lines: [{ service_id: svc.body.id, calls: 1, passes: 1, amount: 7_000 }],
      debits: [{ kind: "tip", service_id: svc.body.id, amount: 700 }],
      totals: { charges: 7_700, credits: 0, total: 1_000_000 - posted },
    });
    const reconciliation = await eventually(
      () => api("GET", `/v1/reconciliation?account_id=${acct.id}`, op),
      (r) => expect(r.body).toMatchObject({ ok: true, discrepancies: [] }),
    );
    expect(reconciliation.body.transfers_checked).toBe(4); // credit, pass purchase, one paid call, tip
  });
});
