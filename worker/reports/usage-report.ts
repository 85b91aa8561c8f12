import { ApiError } from "../errors";
import { exactSum } from "../../core/pricing/amount";
import { toAmount } from "./amount";
import { iso, type Period } from "./period";
import { TAG_KEY } from "../../core/tags";

/**
 * Cost allocation: settled charges (D1 `transfers` of kind `capture`) net of their refunds, summed
 * per service, UTC day or tag value, and always per currency (a service may be paid in several).
 * `calls` counts captures; `amount` and `fee` subtract refunds (a refund carries its capture's
 * service and tags) in the period the refund was made, so a group may come out negative when a
 * refund falls in a later period than its charge.
 */
export type GroupBy = "service" | "day" | `tag:${string}`;

/** `service`, `day` or `tag:<name>`, where the name follows the tag rule (core/tags.ts). */
export const GROUP_BY = new RegExp(`^(service|day|tag:${TAG_KEY.source.slice(1, -1)})$`);

export type UsageScope = { accountId: string } | { serviceId: string };

export type UsageRow = { currency: string; key: string | null; calls: number; amount: number; fee: number };
export type UsageGroup = UsageRow;
export type UsageTotal = { calls: number; amount: number; fee: number };
/** A group as read from D1: its sums exact (see exactSum). */
export type ExactUsageRow = { currency: string; key: string | null; calls: number; amount: bigint; fee: bigint };
type ExactTotal = { calls: number; amount: bigint; fee: bigint };

export type UsageReport = {
  currency?: string;
  from: string;
  to: string;
  group_by: string;
  groups: UsageGroup[];
  /** The sum of all groups; null when the groups are in more than one currency. */
  total: UsageTotal | null;
  totals: (UsageTotal & { currency: string })[];
};

/**
 * The SQL for a report. Nothing from the request is spliced in: the scope column and the key
 * expression come from fixed choices, and a tag name (already checked against TAG_KEY, so no
 * quote can appear) is bound as the JSON path parameter.
 */
export function usageQuery(scope: UsageScope, period: Period, groupBy: GroupBy): { sql: string; params: (string | number)[] } {
  const [column, id] = "accountId" in scope ? ["account_id", scope.accountId] : ["service_id", scope.serviceId];
  const params: (string | number)[] = [id, period.from, period.to];
  let key: string;
  if (groupBy === "service") key = "service_id";
  else if (groupBy === "day") key = "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')";
  else {
    const name = groupBy.slice("tag:".length);
    if (!TAG_KEY.test(name)) throw new Error(`not a tag name: ${name}`);
    params.push(`$."${name}"`);
    key = "json_extract(tags, ?4)";
  }
  const sql =
    // Sums as text: SQLite adds exactly in 64 bits, a JavaScript number only up to 2^53 − 1.
    `SELECT currency, ${key} AS key, SUM(kind = 'capture') AS calls, CAST(SUM(${signed("amount")}) AS TEXT) AS amount, ` +
    `CAST(SUM(${signed("fee")}) AS TEXT) AS fee FROM transfers ` +
    `WHERE kind IN ('capture', 'refund') AND ${column} = ?1 AND created_at >= ?2 AND created_at < ?3 ` +
    "GROUP BY currency, key ORDER BY currency, key IS NULL, key";
  return { sql, params };
}

/** A column counted as charged: negative for a refund. */
const signed = (column: string) => `CASE kind WHEN 'refund' THEN -${column} ELSE ${column} END`;

/** Runs the report against D1. */
export async function usageReport(d1: D1Database, scope: UsageScope, period: Period, groupBy: GroupBy, currency?: string): Promise<UsageReport> {
  const { sql, params } = usageQuery(scope, period, groupBy);
  const { results } = await d1
    .prepare(sql)
    .bind(...params)
    .all<{ currency: string; key: unknown; calls: number; amount: string; fee: string }>()
    .catch((err: unknown) => {
      // Past 2^63 even SQLite's exact sum gives up ("integer overflow"): the same answer, sooner.
      if (err instanceof Error && /integer overflow/i.test(err.message))
        throw new ApiError("amount_out_of_range", `A sum in this report is past 2^63. ${NARROWER}`);
      throw err;
    });
  const rows = results.map((r) => ({
    currency: r.currency,
    key: r.key == null ? null : String(r.key),
    calls: Number(r.calls),
    amount: exactSum(r.amount),
    fee: exactSum(r.fee),
  }));
  return summarize(rows, period, groupBy, currency);
}

/** What a narrower report would avoid, said with every amount_out_of_range of a report. */
const NARROWER = "Ask for a shorter period or a finer group_by.";

/**
 * Groups and totals, exact: summed as BigInt and turned into JSON numbers only at the end, where
 * any group or total past 2^53 − 1 fails the report (amount_out_of_range) rather than rounding.
 */
export function summarize(rows: readonly ExactUsageRow[], period: Period, groupBy: string, currency?: string): UsageReport {
  const perCurrency = new Map<string, ExactTotal>();
  for (const r of rows) {
    const t = perCurrency.get(r.currency) ?? { calls: 0, amount: 0n, fee: 0n };
    perCurrency.set(r.currency, { calls: t.calls + r.calls, amount: t.amount + r.amount, fee: t.fee + r.fee });
  }
  const groups = rows.map((r) => ({ ...r, ...numbers(r, `the ${r.currency} amount of group ${JSON.stringify(r.key)}`) }));
  const totals = [...perCurrency].map(([c, t]) => ({ currency: c, ...numbers(t, `the ${c} total`) }));
  return report(groups, totals, period, groupBy, currency);
}

function numbers(t: ExactTotal, what: string): UsageTotal {
  return { calls: t.calls, amount: toAmount(t.amount, what, NARROWER), fee: toAmount(t.fee, `${what}'s fee`, NARROWER) };
}

/**
 * The report's shape. A single currency (or the account's, when nothing was charged) is named at
 * the top with one `total`; mixed currencies get no `total` (adding them up means nothing), only
 * `totals` per currency.
 */
function report(rows: readonly UsageRow[], totals: (UsageTotal & { currency: string })[], period: Period, groupBy: string, currency?: string): UsageReport {
  const only = totals.length === 1 ? totals[0] : undefined;
  const single = totals.length === 0 ? currency : only?.currency;
  return {
    ...(single ? { currency: single } : {}),
    from: iso(period.from),
    to: iso(period.to),
    group_by: groupBy,
    groups: [...rows],
    total: totals.length > 1 ? null : only ? { calls: only.calls, amount: only.amount, fee: only.fee } : { calls: 0, amount: 0, fee: 0 },
    totals,
  };
}
