import { exactSum } from "../../core/pricing/amount";
import { ApiError } from "../errors";
import { toAmount } from "./amount";
import { iso, isFinal, type Period } from "./period";

/**
 * A payer account's monthly invoice, from D1's settled transfers: what its agents were charged per
 * service (with cost-allocation tag subtotals), what was given back (refunds, compensations) and
 * what was taken back (repayments of a compensation), and the tips given. Top-ups are payments, shown apart, not
 * lines. The totals are checked against the account's own legs on those transfers, to the
 * micro-unit, or the invoice is not given (500).
 */
export type TagSubtotal = { name: string; value: string; calls: number; amount: number };
/** A service's charges: `calls` the calls (captures with a hold), `passes` the passes bought or renewed; `amount` is both. */
export type ServiceLine = { service_id: string | null; name: string | null; calls: number; passes: number; amount: number; tags: TagSubtotal[] };
/** `refund` (a plain refund), `dispute_refund` (a refund that settled a dispute), `compensation`, `repayment`, `tip`. */
export type AdjustmentKind = "refund" | "dispute_refund" | "compensation" | "repayment" | "tip";
export type AdjustmentLine = { kind: AdjustmentKind; service_id: string | null; name: string | null; count: number; amount: number };

export type Invoice = {
  invoice_number: string;
  account_id: string;
  account_name: string;
  currency: string;
  month: string;
  from: string;
  /** Exclusive: the next month's first instant. */
  to: string;
  final: boolean;
  /** Charges per service, each with its calls' subtotals per tag (a call counts once under each of its tags). */
  lines: ServiceLine[];
  /** Credit lines: refunds, dispute refunds and compensations, positive amounts. */
  credits: AdjustmentLine[];
  /** Debit lines besides the charges: repayments of a compensation and tips, positive amounts. */
  debits: AdjustmentLine[];
  /** Top-ups received in the month: not invoice lines, shown for reference. */
  payments: { count: number; amount: number };
  /** `charges` = Σ lines + Σ debits; `credits` = Σ credit lines; `total` = charges − credits (negative: in the payer's favour). */
  totals: { charges: number; credits: number; total: number };
};

/**
 * The invoice number: `TG-<YYYYMM>-<the account id after "acct_", upper-cased>`. An account id is
 * unique and its tail is [0-9a-z], so upper-casing keeps it unique: one number per account and
 * month, the same on every request, with no counter to keep.
 */
export function invoiceNumber(accountId: string, month: string): string {
  return `TG-${month.replace("-", "")}-${accountId.replace(/^acct_/, "").toUpperCase()}`;
}

type Row = Record<string, unknown>;
const MONTH_OF = "t.account_id = ?1 AND t.created_at >= ?2 AND t.created_at < ?3";

// Sums as text: SQLite adds exactly in 64 bits, a JavaScript number only up to 2^53 − 1.
// A call's capture settles a hold; a pass's purchase or renewal is a capture with none.
const SERVICE_LINES = `SELECT t.service_id, s.name,
  SUM(CASE WHEN t.hold_id IS NOT NULL THEN 1 ELSE 0 END) AS calls,
  SUM(CASE WHEN t.hold_id IS NULL AND t.reason IN ('pass_purchase', 'pass_renewal') THEN 1 ELSE 0 END) AS passes,
  CAST(SUM(t.amount) AS TEXT) AS amount
  FROM transfers t LEFT JOIN services s ON s.id = t.service_id
  WHERE ${MONTH_OF} AND t.kind = 'capture' GROUP BY t.service_id ORDER BY t.service_id`;

/** Tag subtotals the way usage reports group by tag: a charge counts under each of its tags. */
const TAG_SUBTOTALS = `SELECT t.service_id, j.key AS name, CAST(j.value AS TEXT) AS value, COUNT(*) AS calls, CAST(SUM(t.amount) AS TEXT) AS amount
  FROM transfers t, json_each(t.tags) AS j
  WHERE ${MONTH_OF} AND t.kind = 'capture' AND t.tags IS NOT NULL
  GROUP BY t.service_id, j.key, j.value ORDER BY t.service_id, j.key, j.value`;

const ADJUSTMENTS = `SELECT CASE WHEN t.kind = 'refund' AND t.dispute_id IS NOT NULL THEN 'dispute_refund' ELSE t.kind END AS kind,
  t.service_id, s.name, COUNT(*) AS count, CAST(SUM(t.amount) AS TEXT) AS amount
  FROM transfers t LEFT JOIN services s ON s.id = t.service_id
  WHERE ${MONTH_OF} AND t.kind IN ('refund', 'compensation', 'repayment', 'tip')
  GROUP BY 1, t.service_id ORDER BY 1, t.service_id`;

const PAYMENTS = `SELECT COUNT(*) AS count, CAST(COALESCE(SUM(t.amount), 0) AS TEXT) AS amount FROM transfers t WHERE ${MONTH_OF} AND t.kind = 'credit'`;

/** The account's own legs in the month, split by sign and by whether the transfer is a top-up. */
const LEGS = `SELECT
  CAST(COALESCE(SUM(CASE WHEN t.kind <> 'credit' AND e.amount < 0 THEN -e.amount END), 0) AS TEXT) AS debits,
  CAST(COALESCE(SUM(CASE WHEN t.kind <> 'credit' AND e.amount > 0 THEN e.amount END), 0) AS TEXT) AS credits,
  CAST(COALESCE(SUM(CASE WHEN t.kind = 'credit' THEN e.amount END), 0) AS TEXT) AS payments
  FROM ledger_entries e JOIN transfers t ON t.account_id = e.account_id AND t.seq = e.seq
  WHERE e.account_id = ?1 AND e.ledger_account = ?1 AND e.created_at >= ?2 AND e.created_at < ?3`;

const CREDIT_KINDS: readonly AdjustmentKind[] = ["refund", "dispute_refund", "compensation"];

/** The account's invoice for `month` (a period from monthPeriod). */
export async function accountInvoice(
  d1: D1Database,
  account: { id: string; name: string; currency: string },
  month: string,
  period: Period,
  now = Date.now(),
): Promise<Invoice> {
  const bind = (sql: string) => d1.prepare(sql).bind(account.id, period.from, period.to);
  const results = await d1.batch<Row>([SERVICE_LINES, TAG_SUBTOTALS, ADJUSTMENTS, PAYMENTS, LEGS].map(bind)).catch((err: unknown) => {
    if (err instanceof Error && /integer overflow/i.test(err.message)) throw new ApiError("amount_out_of_range", "A sum in this invoice is past 2^63.");
    throw err;
  });
  const [services, tags, adjustments, payments, legs] = results.map((r) => r.results);
  const where = `invoice ${invoiceNumber(account.id, month)}`;
  const amount = (v: unknown, what: string) => toAmount(exactSum(v), `${where} ${what}`);

  let charges = 0n;
  let credits = 0n;
  const lines: ServiceLine[] = (services ?? []).map((r) => {
    charges += exactSum(r.amount);
    const id = r.service_id == null ? null : String(r.service_id);
    return {
      service_id: id,
      name: r.name == null ? null : String(r.name),
      calls: Number(r.calls),
      passes: Number(r.passes),
      amount: amount(r.amount, `charges of ${id}`),
      tags: (tags ?? [])
        .filter((t) => (t.service_id == null ? null : String(t.service_id)) === id)
        .map((t) => ({ name: String(t.name), value: String(t.value), calls: Number(t.calls), amount: amount(t.amount, `tag ${t.name} of ${id}`) })),
    };
  });
  const creditLines: AdjustmentLine[] = [];
  const debitLines: AdjustmentLine[] = [];
  for (const r of adjustments ?? []) {
    const kind = String(r.kind) as AdjustmentKind;
    const line = {
      kind,
      service_id: r.service_id == null ? null : String(r.service_id),
      name: r.name == null ? null : String(r.name),
      count: Number(r.count),
      amount: amount(r.amount, `${kind} of ${r.service_id}`),
    };
    if (CREDIT_KINDS.includes(kind)) {
      credits += exactSum(r.amount);
      creditLines.push(line);
    } else {
      charges += exactSum(r.amount);
      debitLines.push(line);
    }
  }
  const paid = payments?.[0] ?? {};
  assertAgainstLegs(where, { charges, credits, payments: exactSum(paid.amount) }, legs?.[0] ?? {});
  return {
    invoice_number: invoiceNumber(account.id, month),
    account_id: account.id,
    account_name: account.name,
    currency: account.currency,
    month,
    from: iso(period.from),
    to: iso(period.to),
    final: isFinal(period, now),
    lines,
    credits: creditLines,
    debits: debitLines,
    payments: { count: Number(paid.count ?? 0), amount: amount(paid.amount, "payments") },
    totals: { charges: amount(charges, "charges"), credits: amount(credits, "credits"), total: amount(charges - credits, "total") },
  };
}

/**
 * The invoice's totals must be the account's own legs: charges its debits, credits its credits,
 * payments its top-up legs. An invoice that disagrees with the ledger is never given.
 */
function assertAgainstLegs(where: string, totals: { charges: bigint; credits: bigint; payments: bigint }, legs: Row): void {
  const ledger = { charges: exactSum(legs.debits), credits: exactSum(legs.credits), payments: exactSum(legs.payments) };
  for (const key of ["charges", "credits", "payments"] as const) {
    if (totals[key] !== ledger[key]) {
      throw new ApiError(
        "internal_error",
        `The invoice does not add up, so it is not given: ${where} ${key} are ${totals[key]} but the account's legs say ${ledger[key]}. The settled ledger needs checking (GET /v1/reconciliation).`,
      );
    }
  }
}
