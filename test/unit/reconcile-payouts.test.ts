import { describe, expect, it } from "vitest";
import { payoutLegs } from "../../core/legs";
import { type PayoutLegRow, type PayoutRecord, reconcilePayouts } from "../../worker/reports/reconcile-payouts";

const PROV = "prov_a";
const payout = (seq: number, amount: number): PayoutRecord => ({ id: `po_${seq}`, provider_id: PROV, seq, amount, currency: "USD" });
const legsOf = (p: PayoutRecord): PayoutLegRow[] =>
  payoutLegs(p.provider_id, p.amount).map((l, leg) => ({
    account_id: p.provider_id,
    seq: p.seq,
    leg,
    transfer_id: p.id,
    ledger_account: l.ledgerAccount,
    amount: l.amount,
    currency: p.currency,
  }));

describe("reconcilePayouts", () => {
  const rows = [payout(1, 500), payout(2, 700)];
  const all = rows.flatMap(legsOf);

  it("payouts with exactly their two legs are clean", () => {
    expect(reconcilePayouts(rows, all)).toEqual([]);
    expect(reconcilePayouts([], [])).toEqual([]);
  });

  it("a payout without legs is missing", () => {
    expect(reconcilePayouts(rows, all.slice(0, 2))).toEqual([
      { account_id: PROV, seq: 2, kind: "missing", detail: expect.stringMatching(/po_2 .* no ledger entries/) },
    ]);
  });

  it("a payout with one leg gone is unbalanced", () => {
    expect(
      reconcilePayouts(
        rows,
        all.filter((l) => !(l.seq === 1 && l.leg === 1)),
      ),
    ).toEqual([{ account_id: PROV, seq: 1, kind: "unbalanced", detail: "payout po_1: legs sum to -500" }]);
  });

  it("legs that balance but are not the payout's (amount, account, currency, transfer id, a third leg) are a mismatch", () => {
    const altered: ((l: PayoutLegRow) => PayoutLegRow)[] = [
      (l) => ({ ...l, amount: l.amount > 0 ? 499 : -499 }),
      (l) => (l.leg === 1 ? { ...l, ledger_account: "platform" } : l),
      (l) => ({ ...l, currency: "EUR" }),
      (l) => (l.leg === 0 ? { ...l, transfer_id: "po_other" } : l),
    ];
    for (const alter of altered) {
      const legs = all.map((l) => (l.seq === 1 ? alter(l) : l));
      expect(reconcilePayouts(rows, legs)).toEqual([{ account_id: PROV, seq: 1, kind: "amount_mismatch", detail: expect.stringContaining("po_1") }]);
    }
    const zeroLeg: PayoutLegRow = { account_id: PROV, seq: 2, leg: 2, transfer_id: "po_2", ledger_account: "platform", amount: 0, currency: "USD" };
    expect(reconcilePayouts(rows, [...all, zeroLeg])).toEqual([{ account_id: PROV, seq: 2, kind: "amount_mismatch", detail: expect.stringContaining("po_2") }]);
  });

  it("legs under a provider with no payout row are unknown", () => {
    expect(reconcilePayouts(rows.slice(0, 1), all)).toEqual([
      { account_id: PROV, seq: 2, kind: "unknown_in_d1", detail: "ledger entries of prov_a at seq 2 (po_2) have no payout row" },
    ]);
  });
});
