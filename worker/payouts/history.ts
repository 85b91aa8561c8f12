import { and, desc, eq, lt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { payouts } from "../db/schema";
import { type AtPosition, newestFirstPage } from "../reports/queries";
import type { PayoutRow } from "./pay";

/** A payout as the API shows it. */
export type PayoutView = { id: string; provider_id: string; amount: number; currency: string; reference: string | null; created_at: string };

export function payoutView(p: PayoutRow): PayoutView {
  return {
    id: p.id,
    provider_id: p.providerId,
    amount: p.amount,
    currency: p.currency,
    reference: p.reference,
    created_at: new Date(p.createdAt).toISOString(),
  };
}

/** The provider's payouts, newest first (`created_at`, then id), continuing below `after`. */
export async function listPayouts(db: Db, providerId: string, limit: number, after: AtPosition | null) {
  const position = after ? or(lt(payouts.createdAt, after.at), and(eq(payouts.createdAt, after.at), lt(payouts.id, after.id))) : undefined;
  const rows = await db
    .select()
    .from(payouts)
    .where(and(eq(payouts.providerId, providerId), position))
    .orderBy(desc(payouts.createdAt), desc(payouts.id))
    .limit(limit + 1);
  return newestFirstPage(rows, limit, payoutView, (r) => ({ at: r.createdAt, id: r.id }));
}
