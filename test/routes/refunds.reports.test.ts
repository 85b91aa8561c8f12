import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api } from "./helpers";
import { exportNow, paidCall } from "./ledger-helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

let w: RefundWorld;
let refundId: string;
beforeAll(async () => {
  w = await refundWorld(1_000, 1_000); // 10% fee
  const charge = await exportedCharge(w);
  await paidCall(w.svc.slug, w.p.agentKey);
  const r = await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: charge, amount: 400 } });
  expect(r.status).toBe(201);
  refundId = r.body.id;
  await exportNow(w.p.accountId);
});

describe("refunds in the reports", () => {
  it("ledger entries: a refund is one entry per debit leg, each crediting the payer", async () => {
    const r = await api("/v1/ledger/entries?limit=100", { key: w.p.ownerKey });
    expect(r.status).toBe(200);
    const mine = r.body.data.filter((e: { transfer_id: string }) => e.transfer_id === refundId);
    expect(mine.map((e: Record<string, unknown>) => [e.debit_account, e.credit_account, e.amount, e.transfer_kind])).toEqual([
      [w.prov.id, w.p.accountId, 360, "refund"],
      ["platform", w.p.accountId, 40, "refund"],
    ]);
    const csv = await api("/v1/ledger/entries?format=csv", { key: OPERATOR });
    expect(csv.status).toBe(200);
    expect(String(csv.body)).toContain(`${refundId}:1`);
  });

  it("usage reports count the calls and net the refunds out of amount and fee", async () => {
    const r = await api(`/v1/accounts/${w.p.accountId}/usage`, { key: w.p.ownerKey });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.total).toEqual({ calls: 2, amount: 1_600, fee: 160 });
    const bySvc = await api(`/v1/services/${w.svc.id}/usage`, { key: w.prov.key });
    expect(bySvc.body.total).toEqual({ calls: 2, amount: 1_600, fee: 160 });
  });

  it("the reconciler finds nothing wrong with a refunded account", async () => {
    const r = await api(`/v1/reconciliation?account_id=${w.p.accountId}`, { key: OPERATOR });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.discrepancies).toEqual([]);
  });
});
