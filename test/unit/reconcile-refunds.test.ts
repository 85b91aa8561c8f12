import { describe, expect, it } from "vitest";
import { legsOf } from "../../core/legs";
import { type D1LegRow, type JournalRow, reconcileAccount } from "../../worker/reports/reconcile";

const ACCT = "acct_test";
const NOW = 1_800_000_000_000;
const opts = { now: NOW, graceMs: 60_000 };

const credit: JournalRow = { seq: 1, id: "tr_1", kind: "credit", amount: 10_000, fee: 0, currency: "USD", provider_id: null, created_at: NOW - 9 };
const capture: JournalRow = { seq: 2, id: "tr_2", kind: "capture", amount: 1_000, fee: 100, currency: "USD", provider_id: "prov_a", created_at: NOW - 8 };
const refund = (seq: number, amount: number, fee: number, of = "tr_2"): JournalRow => ({
  seq,
  id: `rf_${seq}`,
  kind: "refund",
  amount,
  fee,
  currency: "USD",
  provider_id: "prov_a",
  refund_of: of,
  created_at: NOW - 8 + seq,
});

function legs(rows: readonly JournalRow[]): D1LegRow[] {
  return rows.flatMap((t) => legsOf(ACCT, t).map((l, leg) => ({ seq: t.seq, leg, ledger_account: l.ledgerAccount, amount: l.amount })));
}

const check = (rows: JournalRow[], d1Legs = legs(rows)) =>
  reconcileAccount({ accountId: ACCT, ledger: { exportedSeq: rows.length, journal: rows }, d1Transfers: rows.map((r) => ({ ...r })), d1Legs }, opts)
    .discrepancies;

describe("reconciling refunds (I1, I5)", () => {
  it("refunds within their capture, with their reversed legs: nothing to report", () => {
    expect(check([credit, capture, refund(3, 400, 40), refund(4, 600, 60)])).toEqual([]);
  });

  it("refunds past the capture's amount or fee are reported", () => {
    const over = check([credit, capture, refund(3, 600, 60), refund(4, 500, 50)]);
    expect(over.map((d) => [d.kind, d.seq])).toEqual([["amount_mismatch", 4]]);
    expect(over[0]?.detail).toContain("refunds of 1100");
  });

  it("a refund that names no capture is reported", () => {
    expect(check([credit, capture, refund(3, 10, 0, "tr_1")]).map((d) => d.kind)).toEqual(["amount_mismatch"]);
  });

  it("a refund's legs must be the capture's reversed, one credit leg", () => {
    const rows = [credit, capture, refund(3, 400, 40)];
    const bad = legs(rows).map((l) =>
      l.seq === 3 && l.ledger_account === "platform" ? { ...l, amount: -30 } : l.seq === 3 && l.amount < 0 ? { ...l, amount: -370 } : l,
    );
    expect(check(rows, bad).map((d) => [d.kind, d.seq])).toEqual([["amount_mismatch", 3]]);
    const twoCredits = legs(rows).map((l) => (l.seq === 3 && l.ledger_account === "platform" ? { ...l, amount: 40 } : l));
    expect(check(rows, twoCredits).map((d) => d.kind)).toEqual(["unbalanced"]);
  });

  it("a refund_of that differs between the journal and D1 is a mismatch", () => {
    const rows = [credit, capture, { ...capture, seq: 3, id: "tr_3" }, refund(4, 10, 1)];
    const d1 = rows.map((r) => (r.seq === 4 ? { ...r, refund_of: "tr_3" } : { ...r }));
    const out = reconcileAccount({ accountId: ACCT, ledger: { exportedSeq: 4, journal: rows }, d1Transfers: d1, d1Legs: legs(rows) }, opts).discrepancies;
    expect(out.map((d) => [d.kind, d.seq])).toEqual([["amount_mismatch", 4]]);
  });
});
