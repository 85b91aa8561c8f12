/**
 * The settlement loop end to end, over real HTTP (`wrangler dev` → the demo origin): paid calls →
 * a partial refund → a dispute compensated at once → the provider contests → the operator decides
 * for the payer → the provider's balance and a payout → the provider's statement and the payer's
 * invoice, every figure checked to the micro-unit against what the steps moved.
 */
import { describe, expect, it } from "vitest";
import { eventually, gatewayWithOrigin } from "./harness.ts";

// 1 234 567 a call at a 7.5% fee: 92 592 to the platform, 1 141 975 to the provider.
const PRICE = 1_234_567;
const FEE = 92_592;
const NET = PRICE - FEE;
const COMPENSATION_LIMIT = 1_000_000;

const w = gatewayWithOrigin({ COMPENSATION_LIMIT: String(COMPENSATION_LIMIT), PAYOUT_DELAY_S: "0" });

describe("end to end: refund, dispute, payout, statement and invoice", () => {
  it("every document adds up to what the steps moved", async () => {
    const { gw, origin, api } = w;
    const op = gw.operatorToken;
    const prov = (await api("POST", "/v1/providers", op, { name: "Settler" })).body;
    const slug = `settle-${Date.now().toString(36)}`;
    const svc = await api("POST", "/v1/services", op, {
      slug,
      name: "Settled <service>",
      origin: origin.url,
      prices: [{ per_call: PRICE }],
      provider_id: prov.id,
      fee_bps: 750,
    });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    const acct = (await api("POST", "/v1/accounts", op, { name: "payer", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: 10_000_000 });
    const key = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "bot" })).body;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/s/${slug}/echo`, { headers: { authorization: `Bearer ${key.key}` } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const charges = await eventually(
      () => gw.d1<{ id: string }>(`SELECT id FROM transfers WHERE account_id = '${acct.id}' AND kind = 'capture' ORDER BY seq`),
      (rows) => expect(rows).toHaveLength(3),
    );
    const [first, second] = charges.map((c) => c.id);

    // A partial refund of the first charge: floor(92 592 × 500 001 / 1 234 567) = 37 499 of fee back.
    const refund = await api("POST", "/v1/refunds", prov.api_key, { transfer_id: first, amount: 500_001, reason: "late" });
    expect(refund.body).toMatchObject({ amount: 500_001, fee: 37_499 });

    // The second charge disputed as unauthorized: credited at once, up to the limit.
    const opened = await api("POST", `/v1/accounts/${acct.id}/disputes`, acct.owner_key, { transfer_id: second, reason: "unauthorized" });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body).toMatchObject({ amount: PRICE, compensated: COMPENSATION_LIMIT, status: "open" });
    const afterOpen = (await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body;
    expect(afterOpen.posted).toBe(10_000_000 - 3 * PRICE + 500_001 + COMPENSATION_LIMIT);

    // The provider finds it at once and contests; the operator decides for the payer.
    const listed = await api("GET", "/v1/disputes", prov.api_key);
    expect(listed.body.data.map((d: { id: string }) => d.id)).toEqual([opened.body.id]);
    const contested = await api("POST", `/v1/disputes/${opened.body.id}/respond`, prov.api_key, { accept: false, evidence: "served in full" });
    expect(contested.body).toMatchObject({ status: "open", evidence: "served in full" });
    const resolved = await api("POST", `/v1/disputes/${opened.body.id}/resolve`, op, { winner: "payer" });
    expect(resolved.body).toMatchObject({ status: "won_by_payer" });
    const twice = await api("POST", `/v1/disputes/${opened.body.id}/resolve`, op, { winner: "provider" });
    expect([twice.status, twice.body.code]).toEqual([409, "dispute_closed"]);
    const posted = 10_000_000 - 3 * PRICE + 500_001 + PRICE;
    expect((await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body).toMatchObject({ posted, available: posted });

    // The provider's balance: three nets, less what the refund and the dispute took back.
    const earned = 3 * NET - (500_001 - 37_499) - NET;
    const balance = await eventually(
      () => api("GET", `/v1/providers/${prov.id}/balance`, prov.api_key),
      (r) => expect(r.body.balances).toEqual([{ currency: "USD", pending: 0, available: earned, paid_out: 0 }]),
    );
    expect(balance.status).toBe(200);
    const payout = await api("POST", `/v1/providers/${prov.id}/payouts`, op, { amount: 1_000_000, currency: "USD", reference: "wire-1" });
    expect(payout.status, JSON.stringify(payout.body)).toBe(201);
    const tooMuch = await api("POST", `/v1/providers/${prov.id}/payouts`, op, { amount: earned - 1_000_000 + 1, currency: "USD" });
    expect([tooMuch.status, tooMuch.body.code]).toEqual([422, "insufficient_provider_funds"]);

    // The month's statement and invoice, to the micro-unit.
    const month = new Date().toISOString().slice(0, 7);
    const statement = await eventually(
      () => api("GET", `/v1/providers/${prov.id}/statements/${month}`, prov.api_key),
      (r) => expect(r.body.currencies?.[0]?.payouts).toBe(-1_000_000),
    );
    expect(statement.body.currencies).toEqual([
      {
        currency: "USD",
        opening_balance: 0,
        services: [{ service_id: svc.body.id, name: "Settled <service>", calls: 3, passes_sold: 0, units: 0, gross: 3 * PRICE, fees: 3 * FEE, net: 3 * NET }],
        refunds: -(500_001 - 37_499),
        disputes: -NET,
        tips: 0,
        payouts: -1_000_000,
        closing_balance: earned - 1_000_000,
      },
    ]);
    const invoice = await api("GET", `/v1/accounts/${acct.id}/invoices/${month}`, acct.owner_key);
    expect(invoice.status, JSON.stringify(invoice.body)).toBe(200);
    expect(invoice.body).toMatchObject({
      invoice_number: `TG-${month.replace("-", "")}-${acct.id.slice(5).toUpperCase()}`,
      lines: [{ service_id: svc.body.id, calls: 3, amount: 3 * PRICE }],
      payments: { count: 1, amount: 10_000_000 },
      totals: { charges: 3 * PRICE + COMPENSATION_LIMIT, credits: 500_001 + PRICE + COMPENSATION_LIMIT, total: 10_000_000 - posted },
    });
    const html = await fetch(`${gw.url}/v1/accounts/${acct.id}/invoices/${month}?format=html`, { headers: { authorization: `Bearer ${acct.owner_key}` } });
    const page = await html.text();
    expect(html.headers.get("content-type")).toContain("text/html");
    expect(page).toContain(invoice.body.invoice_number);
    expect(page).toContain("Settled &lt;service&gt;");

    // And the ledger reconciles: every transfer in D1 once, with its legs, I14's checks included.
    const reconciliation = await eventually(
      () => api("GET", `/v1/reconciliation?account_id=${acct.id}`, op),
      (r) => expect(r.body).toMatchObject({ ok: true, discrepancies: [] }),
    );
    expect(reconciliation.body.transfers_checked).toBe(1 + 3 + 1 + 1 + 2); // credit, captures, refund, compensation, dispute refund + repayment
  });
});
