/**
 * The reconciler and tips: a tip's D1 legs are checked against `legsOf` (payer −amount, provider
 * +(amount − fee), platform +fee), so exported tips reconcile clean and a tip leg moved to
 * another ledger account is reported.
 */
import { describe, expect, it } from "vitest";
import { OPERATOR, api } from "./helpers";
import { DB, exportNow } from "./ledger-helpers";
import { tip, tipWorld } from "./tip-helpers";

async function reconcile(accountId: string) {
  const r = await api(`/v1/reconciliation?account_id=${accountId}`, { key: OPERATOR });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

describe("GET /v1/reconciliation with tips", () => {
  it("exported tips (with and without a fee) reconcile clean; a tip's provider leg moved to the platform is amount_mismatch", async () => {
    const w = await tipWorld(100_000);
    expect((await tip(w.p.agentKey, { service_id: w.svc.id, amount: 1_000 })).status).toBe(201);
    const withFee = await tip(w.p.ownerKey, { service_id: w.svc.id, amount: 2_000 }, {}, { TIP_FEE_BPS: "500" });
    expect(withFee.body).toMatchObject({ fee: 100 });
    await exportNow(w.p.accountId);
    // The credit and the two tips.
    expect(await reconcile(w.p.accountId)).toMatchObject({ ok: true, discrepancies: [], transfers_checked: 3 });

    // Still balanced (the legs sum to zero), but not a tip's legs: the provider was not paid.
    await DB.prepare("UPDATE ledger_entries SET ledger_account = 'platform' WHERE transfer_id = ? AND ledger_account = ?")
      .bind(withFee.body.id, w.prov.id)
      .run();
    const body = await reconcile(w.p.accountId);
    expect(body.ok).toBe(false);
    expect(body.discrepancies).toEqual([
      expect.objectContaining({ kind: "amount_mismatch", seq: 3, detail: expect.stringMatching(/not those of a tip of 2000 with fee 100/) }),
    ]);
  });
});
