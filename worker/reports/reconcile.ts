import type { Transfer } from "../../durable-objects/types";
import { legsOf } from "../../core/legs";

/**
 * The reconciler's comparison, pure: one account's journal as its Durable Object holds it against
 * what D1 holds, checking I1 (each transfer's legs sum to zero), I7 (every DO transfer exactly
 * once in D1 with the same content; nothing in D1 the DO lacks), I8 (D1's seqs are 1..n), I5
 * (a capture's refunds never sum past it, nor return more than its fee) and I14 (a dispute's
 * compensation is repaid at most once and never more than it was).
 */
export type DiscrepancyKind = "missing" | "duplicate" | "amount_mismatch" | "sequence_gap" | "unbalanced" | "unknown_in_d1" | "ledger_not_opened";

export type Discrepancy = { account_id: string | null; seq: number | null; kind: DiscrepancyKind; detail: string };

/** A DO journal row; `created_at` in epoch ms. */
export type JournalRow = Pick<Transfer, "seq" | "id" | "kind" | "amount" | "fee" | "currency" | "provider_id"> & {
  created_at: number;
  /** A refund's capture (absent or null for other kinds). */
  refund_of?: string | null;
  /** The dispute a compensation, repayment or dispute's refund settles (absent or null otherwise). */
  dispute_id?: string | null;
};
export type D1TransferRow = JournalRow;
export type D1LegRow = { seq: number; leg: number; ledger_account: string; amount: number };

export type AccountSnapshot = {
  accountId: string;
  /** When D1's accounts row was written (epoch ms); absent: long ago. */
  createdAt?: number;
  /** The DO's journal and export cursor; null when the account's ledger was never opened. */
  ledger: { exportedSeq: number; journal: readonly JournalRow[] } | null;
  d1Transfers: readonly D1TransferRow[];
  d1Legs: readonly D1LegRow[];
};

export type AccountResult = { discrepancies: Discrepancy[]; checked: number; not_yet_exported: number };

/**
 * `now` and `graceMs` decide when a DO transfer beyond the export cursor stops being "not yet
 * exported" and becomes missing.
 */
export function reconcileAccount(s: AccountSnapshot, opts: { now: number; graceMs: number }): AccountResult {
  const out: Discrepancy[] = [];
  const report = (seq: number | null, kind: DiscrepancyKind, detail: string) => out.push({ account_id: s.accountId, seq, kind, detail });
  // An account is written to D1 before its ledger is opened: a row whose ledger is still not
  // open after the grace period is an account creation that failed half-way.
  if (!s.ledger && opts.now - (s.createdAt ?? 0) > opts.graceMs) {
    report(null, "ledger_not_opened", `account ${s.accountId} is in D1 but its ledger was never opened (its creation failed after the row was written)`);
  }
  checkSequence(s.d1Transfers, report);
  checkLegs(s.accountId, s.d1Transfers, s.d1Legs, report);
  checkRefunds(s.d1Transfers, report);
  checkCompensations(s.d1Transfers, report);

  const d1ById = new Map<string, D1TransferRow[]>();
  for (const t of s.d1Transfers) d1ById.set(t.id, [...(d1ById.get(t.id) ?? []), t]);
  let pending = 0;
  const journal = s.ledger?.journal ?? [];
  const known = new Set(journal.map((t) => t.id));
  for (const t of journal) {
    const found = d1ById.get(t.id) ?? [];
    const exportedSeq = s.ledger?.exportedSeq ?? 0;
    if (found.length === 0) {
      if (t.seq <= exportedSeq) report(t.seq, "missing", `transfer ${t.id} was exported (cursor at ${exportedSeq}) but is not in D1`);
      else if (opts.now - t.created_at > opts.graceMs) {
        report(
          t.seq,
          "missing",
          `transfer ${t.id} is still not in D1 ${Math.round((opts.now - t.created_at) / 1000)} s after it settled (export cursor at ${exportedSeq})`,
        );
      } else pending++;
    } else if (found.length > 1) {
      report(t.seq, "duplicate", `transfer ${t.id} appears ${found.length} times in D1 (seqs ${found.map((f) => f.seq).join(", ")})`);
    } else {
      const diff = differences(t, found[0] as D1TransferRow);
      if (diff.length > 0) report(t.seq, "amount_mismatch", `transfer ${t.id} differs in D1: ${diff.join("; ")}`);
    }
  }
  for (const t of s.d1Transfers) {
    if (known.has(t.id)) continue;
    report(
      t.seq,
      "unknown_in_d1",
      s.ledger ? `D1 holds transfer ${t.id}, which the account's journal lacks` : `D1 holds transfer ${t.id} for an account with no open ledger`,
    );
  }
  return { discrepancies: out.sort(bySeq), checked: journal.length, not_yet_exported: pending };
}

/** Whole-ledger I1: per currency, every leg in D1 (the outside-money account included) sums to zero. */
export function reconcileTotals(sums: readonly { currency: string; total: bigint }[]): Discrepancy[] {
  return sums
    .filter((s) => s.total !== 0n)
    .map((s) => ({ account_id: null, seq: null, kind: "unbalanced" as const, detail: `all ${s.currency} ledger entries sum to ${s.total}, not 0` }));
}

/** D1 rows for account ids the accounts table does not know. */
export function orphanAccounts(accountIds: readonly string[]): Discrepancy[] {
  return accountIds.map((id) => ({
    account_id: id,
    seq: null,
    kind: "unknown_in_d1" as const,
    detail: `D1 holds ledger rows for ${id}, which is not an account`,
  }));
}

const JOURNAL_KINDS: ReadonlySet<string> = new Set<Transfer["kind"]>(["credit", "capture", "refund", "compensation", "repayment", "tip"]);

type Report = (seq: number | null, kind: DiscrepancyKind, detail: string) => void;

/** I8: D1's seqs for the account are 1, 2, 3 … with no hole below the highest. */
function checkSequence(rows: readonly D1TransferRow[], report: Report): void {
  const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
  let expected = 1;
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i] as number;
    if (seq === seqs[i - 1]) {
      report(seq, "duplicate", `seq ${seq} appears more than once in D1`);
      continue;
    }
    if (seq > expected) {
      const range = seq - 1 === expected ? `seq ${expected} is` : `seqs ${expected}–${seq - 1} are`;
      report(expected, "sequence_gap", `${range} absent from D1, which holds seq ${seq}`);
    }
    expected = seq + 1;
  }
}

/** I5 over D1's rows: per capture, the refunds' amounts and returned fees stay within the capture's. */
function checkRefunds(rows: readonly D1TransferRow[], report: Report): void {
  const byId = new Map(rows.map((t) => [t.id, t]));
  const refunded = new Map<string, { amount: number; fee: number; seq: number }>();
  for (const t of rows) {
    if (t.kind !== "refund" || !t.refund_of) continue;
    const sum = refunded.get(t.refund_of) ?? { amount: 0, fee: 0, seq: t.seq };
    refunded.set(t.refund_of, { amount: sum.amount + t.amount, fee: sum.fee + t.fee, seq: Math.max(sum.seq, t.seq) });
  }
  for (const [id, sum] of refunded) {
    const capture = byId.get(id);
    if (capture?.kind !== "capture") report(sum.seq, "amount_mismatch", `refunds name ${id}, which is not a capture of this account in D1`);
    else if (sum.amount > capture.amount || sum.fee > capture.fee) {
      report(sum.seq, "amount_mismatch", `capture ${id} of ${capture.amount} (fee ${capture.fee}) has refunds of ${sum.amount} (fee ${sum.fee})`);
    }
  }
}

/** I14 over D1's rows: per dispute, at most one compensation and one repayment, the repayment no more than the compensation. */
function checkCompensations(rows: readonly D1TransferRow[], report: Report): void {
  const byDispute = new Map<string, { compensation: D1TransferRow[]; repayment: D1TransferRow[] }>();
  for (const t of rows) {
    if ((t.kind !== "compensation" && t.kind !== "repayment") || !t.dispute_id) continue;
    const entry = byDispute.get(t.dispute_id) ?? { compensation: [], repayment: [] };
    entry[t.kind].push(t);
    byDispute.set(t.dispute_id, entry);
  }
  for (const [id, { compensation, repayment }] of byDispute) {
    const seq = Math.max(...[...compensation, ...repayment].map((t) => t.seq));
    const paid = compensation.reduce((n, t) => n + t.amount, 0);
    const repaid = repayment.reduce((n, t) => n + t.amount, 0);
    if (compensation.length > 1 || repayment.length > 1 || repaid > paid) {
      report(seq, "amount_mismatch", `dispute ${id}: ${compensation.length} compensation(s) of ${paid}, ${repayment.length} repayment(s) of ${repaid}`);
    }
  }
}

/** I1 per transfer: legs sum to zero, one debit leg (a refund: one credit leg), and they are the legs the transfer implies. */
function checkLegs(accountId: string, transfers: readonly D1TransferRow[], legs: readonly D1LegRow[], report: Report): void {
  const bySeq = new Map<number, D1LegRow[]>();
  for (const l of legs) bySeq.set(l.seq, [...(bySeq.get(l.seq) ?? []), l]);
  const seqs = new Set(transfers.map((t) => t.seq));
  for (const t of transfers) {
    const mine = (bySeq.get(t.seq) ?? []).sort((a, b) => a.leg - b.leg);
    if (mine.length === 0) {
      report(t.seq, "unbalanced", `transfer ${t.id} has no ledger entries`);
      continue;
    }
    const odd = mine.find((l) => !Number.isSafeInteger(l.amount));
    if (odd) {
      report(t.seq, "unbalanced", `transfer ${t.id}: leg ${odd.leg} is ${odd.amount}, not an integer amount below 2^53`);
      continue;
    }
    // BigInt: two legs near 2^53 would already round in a JavaScript sum.
    const sum = mine.reduce((n, l) => n + BigInt(l.amount), 0n);
    // A refund reverses a capture: one credit leg (the payer's) where the others have one debit leg.
    const side = t.kind === "refund" ? "credit" : "debit";
    const singles = mine.filter((l) => (side === "credit" ? l.amount > 0 : l.amount < 0)).length;
    if (sum !== 0n || singles !== 1) {
      report(t.seq, "unbalanced", `transfer ${t.id}: legs sum to ${sum}${singles === 1 ? "" : `, with ${singles} ${side} legs (expected 1)`}`);
      continue;
    }
    const expected = JOURNAL_KINDS.has(t.kind) ? legsOf(accountId, t) : null;
    const same = expected?.length === mine.length && expected.every((e, i) => e.ledgerAccount === mine[i]?.ledger_account && e.amount === mine[i]?.amount);
    if (!same) {
      const shown = mine.map((l) => `${l.ledger_account} ${l.amount}`).join(", ");
      report(t.seq, "amount_mismatch", `transfer ${t.id}: legs (${shown}) are not those of a ${t.kind} of ${t.amount} with fee ${t.fee}`);
    }
  }
  for (const seq of [...bySeq.keys()].sort((a, b) => a - b)) {
    if (!seqs.has(seq)) report(seq, "unknown_in_d1", `ledger entries at seq ${seq} have no transfer row`);
  }
}

function differences(a: JournalRow, b: D1TransferRow): string[] {
  const out: string[] = [];
  for (const k of ["seq", "kind", "amount", "fee", "currency", "provider_id", "refund_of", "dispute_id", "created_at"] as const) {
    if ((a[k] ?? null) !== (b[k] ?? null)) out.push(`${k}: journal ${String(a[k])}, D1 ${String(b[k])}`);
  }
  return out;
}

function bySeq(a: Discrepancy, b: Discrepancy): number {
  return (a.seq ?? 0) - (b.seq ?? 0);
}
