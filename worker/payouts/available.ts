import { sql } from "drizzle-orm";
import { ledgerEntries } from "../db/schema";

/**
 * The one rule that splits a provider's balance, as SQL over its legs in `ledger_entries`: a
 * credit leg (amount > 0) written after `pendingSince` (epoch ms: now − PAYOUT_DELAY_S) is
 * pending; every other leg, whatever its age (refunds, dispute refunds, payouts: every debit), counts
 * at once. So pending + available is the sum of all the provider's legs: its balance (I15).
 * The balance read and the payout's check both use these fragments, so they cannot disagree.
 */
export function pendingPart(pendingSince: number) {
  return sql`CASE WHEN ${ledgerEntries.amount} > 0 AND ${ledgerEntries.createdAt} > ${pendingSince} THEN ${ledgerEntries.amount} ELSE 0 END`;
}

export function availablePart(pendingSince: number) {
  return sql`CASE WHEN ${ledgerEntries.amount} > 0 AND ${ledgerEntries.createdAt} > ${pendingSince} THEN 0 ELSE ${ledgerEntries.amount} END`;
}

/** The provider's legs in one currency (the `ledger_entries_balance` index serves it). */
export function providerLegs(providerId: string, currency: string) {
  return sql`${ledgerEntries.ledgerAccount} = ${providerId} AND ${ledgerEntries.currency} = ${currency}`;
}

/** The instant before which a credit leg is available: `now` − the payout delay. */
export function pendingSinceAt(now: number, payoutDelayS: number): number {
  return now - payoutDelayS * 1000;
}
