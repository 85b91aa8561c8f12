/**
 * Tips end to end, over real HTTP (`wrangler dev`), as docs/TIPS.md walks through them: an agent's
 * tip with an Idempotency-Key (and its replay), a key whose mandate forbids tips, the owner's tip,
 * the fee (TIP_FEE_BPS), and the provider's balance, statement and the payer's invoice after.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, jsonClient, startGateway, type Gateway } from "./harness.ts";

let gw: Gateway;
let api: ReturnType<typeof jsonClient>;

beforeAll(async () => {
  gw = await startGateway({ vars: { ALLOW_PRIVATE_ORIGINS: "true", PAYOUT_DELAY_S: "0", TIP_FEE_BPS: "1000" } });
  api = jsonClient(gw);
});

afterAll(async () => {
  await gw?.stop();
});

describe("end to end: tips", () => {
  it("an agent's tip, its replay, a mandate's refusal, the owner's tip; the provider's balance, statement and the invoice have them", async () => {
    const op = gw.operatorToken;
    const prov = (await api("POST", "/v1/providers", op, { name: "Tipped" })).body;
    const svc = await api("POST", "/v1/services", op, {
      slug: `tipped-${Date.now().toString(36)}`,
      name: "Tipped service",
      origin: "http://127.0.0.1:9",
      prices: [{ per_call: 1_000 }],
      provider_id: prov.id,
    });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    const acct = (await api("POST", "/v1/accounts", op, { name: "payer", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: 100_000 });
    const key = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "bot" })).body;

    const body = { service_id: svc.body.id, amount: 2_500, message: "great answers" };
    const tip = await api("POST", "/v1/tips", key.key, body, { "idempotency-key": "thanks-1" });
    expect(tip.status, JSON.stringify(tip.body)).toBe(201);
    expect(tip.body).toMatchObject({ account_id: acct.id, provider_id: prov.id, amount: 2_500, fee: 250, currency: "USD", message: "great answers" });
    const again = await api("POST", "/v1/tips", key.key, body, { "idempotency-key": "thanks-1" });
    expect(again.body).toEqual(tip.body);

    const mandate = (
      await api("POST", `/v1/accounts/${acct.id}/mandates`, acct.owner_key, {
        intent: "calls only",
        max_total: 50_000,
        max_per_call: 2_000,
        valid_until: "2030-12-31T23:59:59Z",
        max_tip: 0,
      })
    ).body;
    expect(mandate.max_tip).toBe(0);
    const bot = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "no-tips", mandate_id: mandate.id })).body;
    const refused = await api("POST", "/v1/tips", bot.key, { service_id: svc.body.id, amount: 1 });
    expect([refused.status, refused.body.code, refused.body.mandate_id]).toEqual([403, "mandate_tip_not_allowed", mandate.id]);

    const owners = await api("POST", "/v1/tips", acct.owner_key, { service_id: svc.body.id, amount: 1_000 });
    expect(owners.body).toMatchObject({ amount: 1_000, fee: 100, message: null });
    expect((await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body).toMatchObject({ posted: 100_000 - 3_500 });

    const earned = 2_250 + 900;
    await eventually(
      () => api("GET", `/v1/providers/${prov.id}/balance`, prov.api_key),
      (r) => expect(r.body.balances).toEqual([{ currency: "USD", pending: 0, available: earned, paid_out: 0 }]),
    );
    const month = new Date().toISOString().slice(0, 7);
    const statement = await api("GET", `/v1/providers/${prov.id}/statements/${month}`, prov.api_key);
    expect(statement.body.currencies).toEqual([
      { currency: "USD", opening_balance: 0, services: [], refunds: 0, disputes: 0, tips: earned, payouts: 0, closing_balance: earned },
    ]);
    const invoice = await api("GET", `/v1/accounts/${acct.id}/invoices/${month}`, acct.owner_key);
    expect(invoice.body).toMatchObject({
      lines: [],
      debits: [{ kind: "tip", service_id: svc.body.id, count: 2, amount: 3_500 }],
      totals: { charges: 3_500, credits: 0, total: 3_500 },
    });
  });
});
