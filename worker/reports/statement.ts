import { exactSum } from "../../core/pricing/amount";
import { ApiError } from "../errors";
import { toAmount } from "./amount";
import { iso, isFinal, type Period } from "./period";

/**
 * A provider's monthly statement, per currency, read from D1's settled ledger. Every figure is a
 * sum of the provider's own legs (`ledger_entries.ledger_account` = the provider), so the
 * statement adds up by construction — and is checked to: opening + Σ services' net + refunds +
 * disputes + tips + payouts = closing, to the micro-unit, or the statement is not given (500).
 */
/**
 * One service's month: `calls` counts the calls charged (captures with a hold), `passes_sold`
 * the passes bought or renewed (captures with no hold); gross, fees and net are of both.
 */
export type StatementService = {
  service_id: string | null;
  name: string | null;
  calls: number;
  passes_sold: number;
  units: number;
  gross: number;
  fees: number;
  net: number;
};

export type CurrencyStatement = {
  currency: string;
  /** Σ the provider's legs before the month. */
  opening_balance: number;
  /** The month's charges (calls and pass sales) paid to the provider, per service: gross − fees = net, the provider's capture legs. */
  services: StatementService[];
  /** Σ the provider's legs of plain refunds in the month (≤ 0). */
  refunds: number;
  /** Σ the provider's legs of refunds that settled a dispute (≤ 0). */
  disputes: number;
  /** Σ the provider's legs of tips in the month (≥ 0: the tips less the platform's fee). */
  tips: number;
  /** Σ the provider's payout legs in the month (≤ 0: money sent out). */
  payouts: number;
  /** Σ the provider's legs up to the month's end. */
  closing_balance: number;
};

export type Statement = {
  provider_id: string;
  provider_name: string;
  month: string;
  from: string;
  /** Exclusive: the next month's first instant. */
  to: string;
  /** The month ended long enough ago that the export has caught up (see FINAL_AFTER_MS). */
  final: boolean;
  currencies: CurrencyStatement[];
};

type Row = Record<string, unknown>;
type Movements = { capture: bigint; refund: bigint; dispute: bigint; tip: bigint; payout: bigint; other: bigint };
type Exact = { opening: bigint; closing: bigint; services: ExactService[]; moves: Movements };
type ExactService = { service_id: string | null; name: string | null; calls: number; passes_sold: number; units: bigint; gross: bigint; fees: bigint };

// Sums as text: SQLite adds exactly in 64 bits, a JavaScript number only up to 2^53 − 1.
const BALANCES = `SELECT currency,
  CAST(SUM(CASE WHEN created_at < ?2 THEN amount ELSE 0 END) AS TEXT) AS opening,
  CAST(SUM(amount) AS TEXT) AS closing
  FROM ledger_entries WHERE ledger_account = ?1 AND created_at < ?3 GROUP BY currency`;

/**
 * The month's legs of the provider by what moved them. A transfer's leg is filed under the payer's
 * journal (`account_id` = acct_…, joined to its transfer); a payout's under the provider itself,
 * with the payout's id as `transfer_id`. Anything else is `other`, which no statement may hold.
 */
const MOVEMENTS = `SELECT e.currency,
  CASE
    WHEN t.kind = 'capture' THEN 'capture'
    WHEN t.kind = 'refund' AND t.dispute_id IS NULL THEN 'refund'
    WHEN t.kind = 'refund' THEN 'dispute'
    WHEN t.kind = 'tip' THEN 'tip'
    WHEN t.kind IS NULL AND p.id IS NOT NULL THEN 'payout'
    ELSE 'other' END AS class,
  CAST(SUM(e.amount) AS TEXT) AS amount
  FROM ledger_entries e
  LEFT JOIN transfers t ON t.account_id = e.account_id AND t.seq = e.seq
  LEFT JOIN payouts p ON p.id = e.transfer_id AND p.provider_id = e.account_id
  WHERE e.ledger_account = ?1 AND e.created_at >= ?2 AND e.created_at < ?3
  GROUP BY e.currency, class`;

/**
 * The month's charges that paid the provider, per currency and service (usage units as reported).
 * A call's capture settles a hold; a pass's purchase or renewal is a capture with none.
 */
const SERVICES = `SELECT t.currency, t.service_id, s.name,
  SUM(CASE WHEN t.hold_id IS NOT NULL THEN 1 ELSE 0 END) AS calls,
  SUM(CASE WHEN t.hold_id IS NULL AND t.reason IN ('pass_purchase', 'pass_renewal') THEN 1 ELSE 0 END) AS passes_sold,
  CAST(SUM(CAST(COALESCE(json_extract(t.usage, '$.units'), 0) AS INTEGER)) AS TEXT) AS units,
  CAST(SUM(t.amount) AS TEXT) AS gross, CAST(SUM(t.fee) AS TEXT) AS fees
  FROM transfers t LEFT JOIN services s ON s.id = t.service_id
  WHERE t.provider_id = ?1 AND t.kind = 'capture' AND t.created_at >= ?2 AND t.created_at < ?3
  GROUP BY t.currency, t.service_id ORDER BY t.currency, t.service_id`;

/** The provider's statement for `month` (a period from monthPeriod). */
export async function providerStatement(
  d1: D1Database,
  provider: { id: string; name: string },
  month: string,
  period: Period,
  now = Date.now(),
): Promise<Statement> {
  const bind = (sql: string) => d1.prepare(sql).bind(provider.id, period.from, period.to);
  const [balances, moves, services] = await d1.batch<Row>([bind(BALANCES), bind(MOVEMENTS), bind(SERVICES)]).catch((err: unknown) => {
    if (err instanceof Error && /integer overflow/i.test(err.message)) throw new ApiError("amount_out_of_range", "A sum in this statement is past 2^63.");
    throw err;
  });
  const byCurrency = new Map<string, Exact>();
  const of = (currency: string): Exact => {
    let e = byCurrency.get(currency);
    if (!e) {
      e = { opening: 0n, closing: 0n, services: [], moves: { capture: 0n, refund: 0n, dispute: 0n, tip: 0n, payout: 0n, other: 0n } };
      byCurrency.set(currency, e);
    }
    return e;
  };
  for (const r of balances?.results ?? []) Object.assign(of(String(r.currency)), { opening: exactSum(r.opening), closing: exactSum(r.closing) });
  for (const r of moves?.results ?? []) of(String(r.currency)).moves[r.class as keyof Movements] += exactSum(r.amount);
  for (const r of services?.results ?? []) {
    of(String(r.currency)).services.push({
      service_id: r.service_id == null ? null : String(r.service_id),
      name: r.name == null ? null : String(r.name),
      calls: Number(r.calls),
      passes_sold: Number(r.passes_sold),
      units: exactSum(r.units),
      gross: exactSum(r.gross),
      fees: exactSum(r.fees),
    });
  }
  const currencies = [...byCurrency.keys()].sort().map((c) => currencyStatement(provider.id, month, c, of(c)));
  return {
    provider_id: provider.id,
    provider_name: provider.name,
    month,
    from: iso(period.from),
    to: iso(period.to),
    final: isFinal(period, now),
    currencies,
  };
}

/** A statement that does not add up is never given: it would be a wrong document. */
export class StatementMismatch extends ApiError {
  constructor(what: string) {
    super("internal_error", `The statement does not add up, so it is not given: ${what}. The settled ledger needs checking (GET /v1/reconciliation).`);
  }
}

/** Checks the identity on the exact sums, then turns them into JSON numbers. */
export function currencyStatement(providerId: string, month: string, currency: string, e: Exact): CurrencyStatement {
  const where = `${providerId} ${month} ${currency}`;
  const net = e.services.reduce((sum, s) => sum + s.gross - s.fees, 0n);
  if (net !== e.moves.capture) throw new StatementMismatch(`${where}: the services' net is ${net} but the provider's capture legs sum to ${e.moves.capture}`);
  if (e.moves.other !== 0n) throw new StatementMismatch(`${where}: legs of unknown origin sum to ${e.moves.other}`);
  const movements = net + e.moves.refund + e.moves.dispute + e.moves.tip + e.moves.payout;
  if (e.opening + movements !== e.closing) {
    throw new StatementMismatch(`${where}: opening ${e.opening} + movements ${movements} = ${e.opening + movements}, but the closing balance is ${e.closing}`);
  }
  const amount = (v: bigint, what: string) => toAmount(v, `${where} ${what}`);
  return {
    currency,
    opening_balance: amount(e.opening, "opening balance"),
    services: e.services.map((s) => ({
      service_id: s.service_id,
      name: s.name,
      calls: s.calls,
      passes_sold: s.passes_sold,
      units: amount(s.units, `units of ${s.service_id}`),
      gross: amount(s.gross, `gross of ${s.service_id}`),
      fees: amount(s.fees, `fees of ${s.service_id}`),
      net: amount(s.gross - s.fees, `net of ${s.service_id}`),
    })),
    refunds: amount(e.moves.refund, "refunds"),
    disputes: amount(e.moves.dispute, "disputes"),
    tips: amount(e.moves.tip, "tips"),
    payouts: amount(e.moves.payout, "payouts"),
    closing_balance: amount(e.closing, "closing balance"),
  };
}
