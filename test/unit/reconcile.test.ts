import { describe, expect, it } from "vitest";
import { legsOf } from "../../core/legs";
import { type AccountSnapshot, type D1LegRow, type JournalRow, orphanAccounts, reconcileAccount, reconcileTotals } from "../../worker/reports/reconcile";

const ACCT = "acct_test";
const NOW = 1_800_000_000_000;
const opts = { now: NOW, graceMs: 60_000 };

/** A journal of n transfers: a credit, then captures of 100 with fee 10 to prov_a. */
function journal(n: number, createdAt = NOW - 3_600_000): JournalRow[] {
  return Array.from({ length: n }, (_, i) => {
    const seq = i + 1;
    return seq === 1
      ? { seq, id: `tr_${seq}`, kind: "credit" as const, amount: 10_000, fee: 0, currency: "USD", provider_id: null, created_at: createdAt + seq }
      : { seq, id: `tr_${seq}`, kind: "capture" as const, amount: 100, fee: 10, currency: "USD", provider_id: "prov_a", created_at: createdAt + seq };
  });
}

function legs(rows: readonly JournalRow[]): D1LegRow[] {
  return rows.flatMap((t) => legsOf(ACCT, t).map((l, leg) => ({ seq: t.seq, leg, ledger_account: l.ledgerAccount, amount: l.amount })));
}

/** An account whose D1 copy is exact, then edited by `edit`. */
function snapshot(
  rows: JournalRow[],
  exportedSeq = rows.length,
  edit: (s: AccountSnapshot & { d1Transfers: JournalRow[]; d1Legs: D1LegRow[] }) => void = () => {},
) {
  const exported = rows.filter((r) => r.seq <= exportedSeq);
  const s = { accountId: ACCT, ledger: { exportedSeq, journal: rows }, d1Transfers: exported.map((r) => ({ ...r })), d1Legs: legs(exported) };
  edit(s);
  return s;
}

const kinds = (s: AccountSnapshot, o = opts) => reconcileAccount(s, o).discrepancies.map((d) => [d.kind, d.seq]);

describe("reconcileAccount", () => {
  it("an exact copy: no discrepancy, every transfer checked", () => {
    const r = reconcileAccount(snapshot(journal(5)), opts);
    expect(r).toEqual({ discrepancies: [], checked: 5, not_yet_exported: 0 });
  });

  it("an empty account is clean", () => {
    expect(reconcileAccount({ accountId: ACCT, ledger: { exportedSeq: 0, journal: [] }, d1Transfers: [], d1Legs: [] }, opts).discrepancies).toEqual([]);
  });

  it("a row deleted from D1 below the export cursor: missing (and a gap in D1's seqs)", () => {
    const s = snapshot(journal(5), 5, (d) => {
      d.d1Transfers = d.d1Transfers.filter((t) => t.seq !== 3);
      d.d1Legs = d.d1Legs.filter((l) => l.seq !== 3);
    });
    expect(kinds(s)).toEqual([
      ["sequence_gap", 3],
      ["missing", 3],
    ]);
  });

  it("the tail beyond the export cursor is not yet exported within the grace period, missing after it", () => {
    const fresh = journal(4, NOW - 1_000);
    expect(reconcileAccount(snapshot(fresh, 2), opts)).toMatchObject({ discrepancies: [], not_yet_exported: 2 });
    const old = journal(4, NOW - 3_600_000);
    const r = reconcileAccount(snapshot(old, 2), opts);
    expect(r.discrepancies.map((d) => [d.kind, d.seq])).toEqual([
      ["missing", 3],
      ["missing", 4],
    ]);
    expect(r.discrepancies[0]?.detail).toMatch(/still not in D1 3600 s after/);
  });

  it("a foreign row in D1 (an id the journal lacks): unknown_in_d1", () => {
    const s = snapshot(journal(3), 3, (d) => {
      d.d1Transfers.push({ seq: 4, id: "tr_forged", kind: "credit", amount: 5, fee: 0, currency: "USD", provider_id: null, created_at: NOW });
      d.d1Legs.push({ seq: 4, leg: 0, ledger_account: "external", amount: -5 }, { seq: 4, leg: 1, ledger_account: ACCT, amount: 5 });
    });
    expect(kinds(s)).toEqual([["unknown_in_d1", 4]]);
  });

  it("a changed amount: amount_mismatch naming both values (legs disagree too)", () => {
    const s = snapshot(journal(3), 3, (d) => {
      (d.d1Transfers[1] as JournalRow).amount = 101;
    });
    const r = reconcileAccount(s, opts);
    expect(r.discrepancies.map((d) => [d.kind, d.seq])).toEqual([
      ["amount_mismatch", 2],
      ["amount_mismatch", 2],
    ]);
    expect(r.discrepancies.map((d) => d.detail).join("\n")).toMatch(/amount: journal 100, D1 101/);
  });

  it("an unbalanced leg: unbalanced with the sum", () => {
    const s = snapshot(journal(3), 3, (d) => {
      const leg = d.d1Legs.find((l) => l.seq === 2 && l.leg === 1) as D1LegRow;
      leg.amount += 1;
    });
    const r = reconcileAccount(s, opts);
    expect(r.discrepancies).toEqual([{ account_id: ACCT, seq: 2, kind: "unbalanced", detail: "transfer tr_2: legs sum to 1" }]);
  });

  it("balanced legs that are not the transfer's (credit sent to another provider): amount_mismatch", () => {
    const s = snapshot(journal(3), 3, (d) => {
      (d.d1Legs.find((l) => l.seq === 3 && l.leg === 1) as D1LegRow).ledger_account = "prov_thief";
    });
    expect(kinds(s)).toEqual([["amount_mismatch", 3]]);
  });

  it("a transfer with no legs, or two debit legs: unbalanced", () => {
    const noLegs = snapshot(journal(2), 2, (d) => {
      d.d1Legs = d.d1Legs.filter((l) => l.seq !== 2);
    });
    expect(kinds(noLegs)).toEqual([["unbalanced", 2]]);
    const twoDebits = snapshot(journal(2), 2, (d) => {
      d.d1Legs = d.d1Legs.filter((l) => l.seq !== 1);
      d.d1Legs.push(
        { seq: 1, leg: 0, ledger_account: "external", amount: -5_000 },
        { seq: 1, leg: 1, ledger_account: "platform", amount: -5_000 },
        { seq: 1, leg: 2, ledger_account: ACCT, amount: 10_000 },
      );
    });
    expect(reconcileAccount(twoDebits, opts).discrepancies[0]?.detail).toMatch(/2 debit legs/);
  });

  it("a seq gap left in D1 (rows numbered past a hole): sequence_gap at the first absent seq", () => {
    const rows = journal(3);
    const s = snapshot(rows, 3, (d) => {
      const moved = d.d1Transfers[2] as JournalRow;
      moved.seq = 5;
      for (const l of d.d1Legs) if (l.seq === 3) l.seq = 5;
    });
    expect(kinds(s)).toEqual([
      ["sequence_gap", 3],
      ["amount_mismatch", 3],
    ]);
    expect(reconcileAccount(s, opts).discrepancies[0]?.detail).toBe("seqs 3–4 are absent from D1, which holds seq 5");
  });

  it("the same transfer twice in D1: duplicate", () => {
    const s = snapshot(journal(2), 2, (d) => {
      d.d1Transfers.push({ ...(d.d1Transfers[1] as JournalRow), seq: 3 });
      d.d1Legs.push(...legs([{ ...(d.d1Transfers[1] as JournalRow), seq: 3 }]));
    });
    expect(kinds(s)).toContainEqual(["duplicate", 2]);
  });

  it("D1 rows for an account whose ledger was never opened: unknown_in_d1", () => {
    const rows = journal(1);
    const r = reconcileAccount({ accountId: ACCT, ledger: null, d1Transfers: rows, d1Legs: legs(rows) }, opts);
    expect(r.discrepancies).toEqual([
      { account_id: ACCT, seq: null, kind: "ledger_not_opened", detail: expect.stringMatching(/never opened/) },
      { account_id: ACCT, seq: 1, kind: "unknown_in_d1", detail: "D1 holds transfer tr_1 for an account with no open ledger" },
    ]);
  });

  it("an account row whose ledger was never opened: ledger_not_opened once past the grace period", () => {
    const orphan = (createdAt: number) => reconcileAccount({ accountId: ACCT, createdAt, ledger: null, d1Transfers: [], d1Legs: [] }, opts).discrepancies;
    // Younger: its creation may still be opening the ledger.
    expect(orphan(NOW - opts.graceMs + 1)).toEqual([]);
    expect(orphan(NOW - opts.graceMs - 1)).toEqual([
      { account_id: ACCT, seq: null, kind: "ledger_not_opened", detail: expect.stringMatching(/acct_test .* never opened/) },
    ]);
    // An opened ledger with an empty journal is no orphan.
    expect(
      reconcileAccount({ accountId: ACCT, createdAt: 0, ledger: { exportedSeq: 0, journal: [] }, d1Transfers: [], d1Legs: [] }, opts).discrepancies,
    ).toEqual([]);
  });

  it("legs whose transfer row is gone: unknown_in_d1 for the legs", () => {
    const s = snapshot(journal(2), 2, (d) => {
      d.d1Transfers = d.d1Transfers.filter((t) => t.seq !== 2);
    });
    expect(kinds(s)).toEqual([
      ["unknown_in_d1", 2],
      ["missing", 2],
    ]);
  });
});

describe("whole-ledger checks", () => {
  it("every currency's legs must sum to zero", () => {
    expect(reconcileTotals([{ currency: "USD", total: 0n }])).toEqual([]);
    expect(
      reconcileTotals([
        { currency: "EUR", total: 0n },
        { currency: "USD", total: 3n },
      ]),
    ).toEqual([{ account_id: null, seq: null, kind: "unbalanced", detail: "all USD ledger entries sum to 3, not 0" }]);
  });

  it("rows for unknown accounts are reported", () => {
    expect(orphanAccounts(["acct_ghost"])).toEqual([
      { account_id: "acct_ghost", seq: null, kind: "unknown_in_d1", detail: expect.stringMatching(/not an account/) },
    ]);
  });
});
