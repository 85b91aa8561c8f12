import { payoutLegs } from "../../core/legs";
import type { Discrepancy } from "./reconcile";

/**
 * The reconciler's check of payouts, pure (I1, I15): every payout row in D1 has exactly its two
 * legs (core/legs.ts `payoutLegs`, under `account_id` = the provider and the payout's seq, naming
 * the payout and its currency), and no leg under a provider's id lacks its payout row. Findings
 * name the provider in `account_id` and the payout's seq.
 */
export type PayoutRecord = { id: string; provider_id: string; seq: number; amount: number; currency: string };
export type PayoutLegRow = { account_id: string; seq: number; leg: number; transfer_id: string; ledger_account: string; amount: number; currency: string };

export function reconcilePayouts(payouts: readonly PayoutRecord[], legs: readonly PayoutLegRow[]): Discrepancy[] {
  const out: Discrepancy[] = [];
  const key = (provider: string, seq: number) => `${provider}\u0000${seq}`;
  const byPayout = new Map<string, PayoutLegRow[]>();
  for (const l of legs) byPayout.set(key(l.account_id, l.seq), [...(byPayout.get(key(l.account_id, l.seq)) ?? []), l]);
  const known = new Set<string>();
  for (const p of payouts) {
    known.add(key(p.provider_id, p.seq));
    const report = (kind: Discrepancy["kind"], detail: string) => out.push({ account_id: p.provider_id, seq: p.seq, kind, detail });
    const mine = (byPayout.get(key(p.provider_id, p.seq)) ?? []).sort((a, b) => a.leg - b.leg);
    if (mine.length === 0) {
      report("missing", `payout ${p.id} of ${p.amount} ${p.currency} has no ledger entries`);
      continue;
    }
    // BigInt: two legs near 2^53 would already round in a JavaScript sum.
    const sum = mine.reduce((n, l) => n + BigInt(l.amount), 0n);
    if (sum !== 0n) {
      report("unbalanced", `payout ${p.id}: legs sum to ${sum}`);
      continue;
    }
    const expected = payoutLegs(p.provider_id, p.amount);
    const same =
      expected.length === mine.length &&
      expected.every((e, i) => {
        const l = mine[i];
        return l?.leg === i && l.ledger_account === e.ledgerAccount && l.amount === e.amount && l.transfer_id === p.id && l.currency === p.currency;
      });
    if (!same) {
      const shown = mine.map((l) => `${l.leg}: ${l.ledger_account} ${l.amount} ${l.currency} (${l.transfer_id})`).join(", ");
      report("amount_mismatch", `payout ${p.id}: legs (${shown}) are not those of a payout of ${p.amount} ${p.currency}`);
    }
  }
  for (const [k, rows] of byPayout) {
    if (known.has(k)) continue;
    const first = rows[0] as PayoutLegRow;
    out.push({
      account_id: first.account_id,
      seq: first.seq,
      kind: "unknown_in_d1",
      detail: `ledger entries of ${first.account_id} at seq ${first.seq} (${first.transfer_id}) have no payout row`,
    });
  }
  return out;
}
