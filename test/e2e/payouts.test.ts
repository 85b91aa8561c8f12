/**
 * Payouts end to end, over real HTTP (`wrangler dev` → the demo origin), as docs/PAYOUTS.md walks
 * through them: earnings, a payout with its key replayed, one past available refused, the list, a
 * refund after the payout (available negative), and 30 payouts sent at once never passing what is
 * available (I15).
 */
import { describe, expect, it } from "vitest";
import { eventually, gatewayWithOrigin } from "./harness.ts";

const w = gatewayWithOrigin({ PAYOUT_DELAY_S: "0" });

describe("end to end: provider balance and payouts", () => {
  it("pays out at most what is available, replays by key, shows a refund after a payout as negative available", async () => {
    const { gw, origin, api } = w;
    const prov = await api("POST", "/v1/providers", gw.operatorToken, { name: "Payee" });
    const slug = `payout-${Date.now().toString(36)}`;
    const svc = await api("POST", "/v1/services", prov.body.api_key, { slug, name: "Paid", origin: origin.url, prices: [{ per_call: 2_000 }] });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    const acct = await api("POST", "/v1/accounts", gw.operatorToken, { name: "payer", currency: "USD" });
    await api("POST", `/v1/accounts/${acct.body.id}/credits`, gw.operatorToken, { amount: 1_000_000 });
    const key = await api("POST", `/v1/accounts/${acct.body.id}/agent-keys`, acct.body.owner_key, { name: "bot" });
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/s/${slug}/echo`, { headers: { authorization: `Bearer ${key.body.key}` } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const balancePath = `/v1/providers/${prov.body.id}/balance`;
    // The earnings reach D1 with the payer's export, about a second after each charge.
    await eventually(
      () => api("GET", balancePath, prov.body.api_key),
      (r) => expect(r.body).toEqual({ provider_id: prov.body.id, balances: [{ currency: "USD", pending: 0, available: 10_000, paid_out: 0 }] }),
    );

    const payoutsPath = `/v1/providers/${prov.body.id}/payouts`;
    const body = { amount: 2_000, currency: "USD", reference: "wire 1" };
    const paid = await api("POST", payoutsPath, gw.operatorToken, body, { "idempotency-key": "po-e2e-1" });
    expect(paid).toMatchObject({ status: 201, body: { provider_id: prov.body.id, amount: 2_000, currency: "USD", reference: "wire 1" } });
    const replay = await api("POST", payoutsPath, gw.operatorToken, body, { "idempotency-key": "po-e2e-1" });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(paid.body);
    expect((await api("POST", payoutsPath, prov.body.api_key, body)).status).toBe(403);

    // 30 payouts of 500 at once against the 8000 left: exactly 16 are paid.
    const race = await Promise.all(Array.from({ length: 30 }, () => api("POST", payoutsPath, gw.operatorToken, { amount: 500, currency: "USD" })));
    expect(race.filter((r) => r.status === 201)).toHaveLength(16);
    for (const r of race.filter((x) => x.status !== 201)) expect(r.body).toMatchObject({ code: "insufficient_provider_funds", available: 0 });
    const listed = await api("GET", `${payoutsPath}?limit=100`, prov.body.api_key);
    expect(listed.body.data).toHaveLength(17);
    expect(listed.body.data.at(-1).id).toBe(paid.body.id);

    // A refund of a charge already paid out: the provider owes it.
    const [charge] = await gw.d1<{ id: string }>(`SELECT id FROM transfers WHERE account_id = '${acct.body.id}' AND kind = 'capture' ORDER BY seq LIMIT 1`);
    expect((await api("POST", "/v1/refunds", prov.body.api_key, { transfer_id: charge?.id })).status).toBe(201);
    await eventually(
      () => api("GET", balancePath, gw.operatorToken),
      (r) => expect(r.body.balances).toEqual([{ currency: "USD", pending: 0, available: -2_000, paid_out: 10_000 }]),
    );
    const refused = await api("POST", payoutsPath, gw.operatorToken, { amount: 1, currency: "USD" });
    expect(refused.body).toMatchObject({ status: 422, code: "insufficient_provider_funds", available: -2_000 });

    const [sum] = await gw.d1<{ s: number }>(`SELECT SUM(amount) AS s FROM ledger_entries WHERE ledger_account = '${prov.body.id}'`);
    expect(sum?.s).toBe(-2_000);
    const reconciled = await api("GET", "/v1/reconciliation?limit=50", gw.operatorToken);
    expect(reconciled.body).toMatchObject({ ok: true, discrepancies: [] });
  });
});
