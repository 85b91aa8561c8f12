import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { transfers } from "../db/schema";
import { type AtPosition, newestFirstPage, transfersAfter } from "./queries";

/** A refund as the API shows it: which charge, whose account, how much (and the fee it returned). */
export type RefundView = {
  id: string;
  transfer_id: string;
  account_id: string;
  amount: number;
  fee: number;
  currency: string;
  reason: string | null;
  created_at: string;
};

/**
 * The charge a refund names, from D1: whose account it is (where the refund is sent) and which
 * provider it paid (who may refund it). D1 trails the ledger by the export (about a second), so a
 * charge settled a moment ago is not found yet; the ledger object then decides the amounts.
 */
export async function chargeOf(db: Db, transferId: string) {
  return db
    .select({ accountId: transfers.accountId, providerId: transfers.providerId, kind: transfers.kind })
    .from(transfers)
    .where(eq(transfers.id, transferId))
    .get();
}

/** Refunds from D1, newest first; `providerId` narrows them to the charges that paid that provider. */
export async function listRefunds(db: Db, providerId: string | null, limit: number, after: AtPosition | null) {
  const position = transfersAfter(after);
  const mine = providerId === null ? undefined : eq(transfers.providerId, providerId);
  const rows = await db
    .select()
    .from(transfers)
    .where(and(eq(transfers.kind, "refund"), mine, position))
    .orderBy(desc(transfers.createdAt), desc(transfers.id))
    .limit(limit + 1);
  return newestFirstPage(
    rows,
    limit,
    (r): RefundView => ({
      id: r.id,
      transfer_id: r.refundOf ?? "",
      account_id: r.accountId,
      amount: r.amount,
      fee: r.fee,
      currency: r.currency,
      reason: r.reason,
      created_at: new Date(r.createdAt).toISOString(),
    }),
    (r) => ({ at: r.createdAt, id: r.id }),
  );
}
