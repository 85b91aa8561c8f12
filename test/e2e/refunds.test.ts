/**
 * Refunds end to end, over real HTTP (`wrangler dev` → the demo origin): paid calls, a partial
 * refund by the provider, the payer's balance, and the double-entry legs D1 ends with, to the
 * micro-unit.
 */
import { describe, expect, it } from "vitest";
import { eventually, gatewayWithOrigin } from "./harness.ts";

const w = gatewayWithOrigin();

describe("end to end: a partial refund", () => {
  it("three paid calls, a refund of part of one: balance, journal and D1 legs agree to the micro-unit", async () => {
    const { gw, origin, api } = w;
    const prov = await api("POST", "/v1/providers", gw.operatorToken, { name: "Refunder" });
    const slug = `refund-${Date.now().toString(36)}`;
    // Created by the operator to set a 7.5% platform fee: 1 234 567 per call → fee 92 592.
    const svc = await api("POST", "/v1/services", gw.operatorToken, {
      slug,
      name: "Refundable",
      origin: origin.url,
      prices: [{ per_call: 1_234_567 }],
      provider_id: prov.body.id,
      fee_bps: 750,
    });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    const acct = await api("POST", "/v1/accounts", gw.operatorToken, { name: "payer", currency: "USD" });
    await api("POST", `/v1/accounts/${acct.body.id}/credits`, gw.operatorToken, { amount: 10_000_000 });
    const key = await api("POST", `/v1/accounts/${acct.body.id}/agent-keys`, acct.body.owner_key, { name: "bot" });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/s/${slug}/echo`, { headers: { authorization: `Bearer ${key.body.key}` } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    // The charge reaches D1 within a second or so; until then the refund route does not know it.
    const [charge] = await eventually(
      () => gw.d1<{ id: string; fee: number }>(`SELECT id, fee FROM transfers WHERE account_id = '${acct.body.id}' AND kind = 'capture' ORDER BY seq LIMIT 1`),
      (rows) => expect(rows).toHaveLength(1),
    );
    expect(charge?.fee).toBe(92_592);

    const refund = await api(
      "POST",
      "/v1/refunds",
      prov.body.api_key,
      { transfer_id: charge?.id, amount: 500_001, reason: "late answer" },
      { "idempotency-key": "e2e-1" },
    );
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    // floor(92 592 × 500 001 / 1 234 567) = 37 499
    expect(refund.body).toMatchObject({
      transfer_id: charge?.id,
      account_id: acct.body.id,
      amount: 500_001,
      fee: 37_499,
      currency: "USD",
      reason: "late answer",
    });
    const replay = await api(
      "POST",
      "/v1/refunds",
      prov.body.api_key,
      { transfer_id: charge?.id, amount: 500_001, reason: "late answer" },
      { "idempotency-key": "e2e-1" },
    );
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const tooMuch = await api("POST", "/v1/refunds", prov.body.api_key, { transfer_id: charge?.id, amount: 734_567 });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body).toMatchObject({ code: "refund_exceeds_charge", refundable: 734_566 });

    const balance = (await api("GET", `/v1/accounts/${acct.body.id}/balance`, acct.body.owner_key)).body;
    expect(balance).toEqual({ currency: "USD", posted: 10_000_000 - 3 * 1_234_567 + 500_001, pending: 0, available: 10_000_000 - 3 * 1_234_567 + 500_001 });

    const legs = await eventually(
      () =>
        gw.d1<{ ledger_account: string; amount: number }>(
          `SELECT ledger_account, amount FROM ledger_entries WHERE transfer_id = '${refund.body.id}' ORDER BY leg`,
        ),
      (rows) => expect(rows).toHaveLength(3),
    );
    expect(legs).toEqual([
      { ledger_account: acct.body.id, amount: 500_001 },
      { ledger_account: prov.body.id, amount: -(500_001 - 37_499) },
      { ledger_account: "platform", amount: -37_499 },
    ]);
    const sums = await gw.d1<{ ledger_account: string; amount: number }>(
      `SELECT ledger_account, SUM(amount) AS amount FROM ledger_entries WHERE account_id = '${acct.body.id}' GROUP BY ledger_account ORDER BY ledger_account`,
    );
    expect(Object.fromEntries(sums.map((s) => [s.ledger_account, s.amount]))).toEqual({
      [acct.body.id]: balance.posted,
      external: -10_000_000,
      platform: 3 * 92_592 - 37_499,
      [prov.body.id]: 3 * (1_234_567 - 92_592) - (500_001 - 37_499),
    });
    const listed = await api("GET", "/v1/refunds", prov.body.api_key);
    expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([refund.body.id]);
  });
});
