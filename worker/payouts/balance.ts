import { eq, sql } from "drizzle-orm";
import { exactSum } from "../../core/pricing/amount";
import type { Db } from "../db/client";
import { ledgerEntries, payouts } from "../db/schema";
import { availablePart, pendingPart } from "./available";

/** A provider's money in one currency, exact (sums of legs may pass 2^53 − 1; see exactSum). */
export type ProviderBalance = { currency: string; pending: bigint; available: bigint; paid_out: bigint };

/**
 * The provider's balances, one per currency it has legs in, from its legs in D1 (the earnings the
 * accounts' exports wrote, and its payouts' legs). The legs and the payouts are read in one batch
 * (one transaction), so `paid_out` is of the same moment as the legs. Cost: an indexed sum over
 * the provider's whole history (`ledger_entries_balance`).
 */
export async function providerBalances(db: Db, providerId: string, pendingSince: number): Promise<ProviderBalance[]> {
  const [legs, paid] = await db.batch([
    db
      .select({
        currency: ledgerEntries.currency,
        pending: sql<string>`CAST(SUM(${pendingPart(pendingSince)}) AS TEXT)`,
        available: sql<string>`CAST(SUM(${availablePart(pendingSince)}) AS TEXT)`,
      })
      .from(ledgerEntries)
      .where(eq(ledgerEntries.ledgerAccount, providerId))
      .groupBy(ledgerEntries.currency)
      .orderBy(ledgerEntries.currency),
    db
      .select({ currency: payouts.currency, total: sql<string>`CAST(SUM(${payouts.amount}) AS TEXT)` })
      .from(payouts)
      .where(eq(payouts.providerId, providerId))
      .groupBy(payouts.currency),
  ]);
  const paidOut = new Map(paid.map((p) => [p.currency, exactSum(p.total)]));
  return legs.map((l) => ({
    currency: l.currency,
    pending: exactSum(l.pending),
    available: exactSum(l.available),
    paid_out: paidOut.get(l.currency) ?? 0n,
  }));
}
