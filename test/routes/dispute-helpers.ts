/** Shared steps of the dispute route tests. */
import { expect } from "vitest";
import { OPERATOR, api } from "./helpers";
import { DB, exportNow } from "./ledger-helpers";
import type { RefundWorld } from "./refund-helpers";

export const openDispute = (w: RefundWorld, body: Record<string, unknown>, key = w.p.ownerKey) => api(`/v1/accounts/${w.p.accountId}/disputes`, { key, body });
export const respond = (id: string, key: string, body: unknown) => api(`/v1/disputes/${id}/respond`, { key, body });
export const resolve = (id: string, winner: string, key = OPERATOR) => api(`/v1/disputes/${id}/resolve`, { key, body: { winner } });

/** Opens a dispute that must succeed; returns its body. */
export async function opened(w: RefundWorld, transferId: string, reason: string): Promise<any> {
  const r = await openDispute(w, { transfer_id: transferId, reason });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** The dispute's transfers in D1 (after the export), oldest first. */
export async function disputeTransfers(accountId: string, disputeId: string) {
  await exportNow(accountId);
  const rows = await DB.prepare("SELECT id, kind, amount, fee, refund_of FROM transfers WHERE dispute_id = ? ORDER BY seq").bind(disputeId).all();
  return rows.results as { id: string; kind: string; amount: number; fee: number; refund_of: string | null }[];
}

/** The legs of the dispute's transfers by ledger account, summed. */
export async function legsByAccount(disputeId: string): Promise<Record<string, number>> {
  const rows = await DB.prepare(
    "SELECT e.ledger_account AS a, SUM(e.amount) AS n FROM ledger_entries e JOIN transfers t ON t.id = e.transfer_id WHERE t.dispute_id = ? GROUP BY e.ledger_account",
  )
    .bind(disputeId)
    .all<{ a: string; n: number }>();
  return Object.fromEntries(rows.results.map((r) => [r.a, r.n]));
}
