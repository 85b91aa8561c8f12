import { type LegSource, legsOf } from "../core/legs";

/**
 * The export of an account's outbox (its journal and audit trail) to D1: hand-written SQL, on
 * purpose, because it runs inside the account's Durable Object for every settled transfer.
 *
 * The ledger's SQLite renders a page of rows as JSON arrays in D1's column order (outboxPageSql),
 * and each D1 table gets ONE statement per page whatever its size: the JSON is bound to `?2` and
 * `json_each` unpacks it inside D1. A page of 100 transfers costs three statements instead of
 * ~600, and the rows never become JavaScript objects on the way. The columns are those of
 * worker/db/schema.ts (drizzle), which owns them.
 */

/** D1 `transfers` columns after `account_id`, in the order a page renders them. */
export const TRANSFER_COLUMNS = [
  "seq",
  "id",
  "kind",
  "amount",
  "currency",
  "request_id",
  "hold_id",
  "service_id",
  "provider_id",
  "agent_key_id",
  "reference",
  "usage",
  "shortfall",
  "reason",
  "fee",
  "mandate_id",
  "tags",
  "refund_of",
  "dispute_id",
  "created_at",
] as const;
/** D1 `audit_events` columns after `account_id`; the ledger's `audit` table has the same names. */
export const AUDIT_COLUMNS = [
  "seq",
  "at",
  "actor",
  "event",
  "agent_key_id",
  "mandate_id",
  "intent_hash",
  "service_id",
  "request_id",
  "amount",
  "outcome",
  "reason",
  "prev_hash",
  "hash",
] as const;
/** D1 `disputes` columns after `account_id`, in the order a page renders them. */
export const DISPUTE_COLUMNS = [
  "id",
  "transfer_id",
  "provider_id",
  "service_id",
  "reason",
  "detail",
  "amount",
  "compensated",
  "currency",
  "status",
  "evidence",
  "contested_at",
  "created_at",
  "resolved_at",
  "version",
] as const;
/** Where each dispute column comes from in the ledger (a dispute's call is its charge's). */
const DISPUTE_SOURCE: Record<(typeof DISPUTE_COLUMNS)[number], string> = {
  ...(Object.fromEntries(DISPUTE_COLUMNS.map((c) => [c, `d.${c}`])) as Record<(typeof DISPUTE_COLUMNS)[number], string>),
  provider_id: "t.provider_id",
  service_id: "t.service_id",
  currency: "?1",
};
const LEG_COLUMNS = ["seq", "leg", "transfer_id", "ledger_account", "amount", "currency", "tags", "created_at"] as const;

/**
 * The ledger's query for one page of its outbox: `?1` the account's currency (its journal rows
 * do not repeat it), `?2` the page size. Pages start after the export cursors; a dispute is sent
 * as it is now whenever it changed after the last export (its `version` grew).
 */
export const outboxPageSql = `SELECT
  (SELECT json_group_array(json_array(${TRANSFER_COLUMNS.map((c) => (c === "currency" ? "?1" : c)).join(", ")}))
     FROM (SELECT * FROM transfers WHERE seq > s.exported_seq ORDER BY seq LIMIT ?2)) AS transfers,
  (SELECT json_group_array(json_array(${AUDIT_COLUMNS.join(", ")}))
     FROM (SELECT * FROM audit WHERE seq > s.audit_exported_seq ORDER BY seq LIMIT ?2)) AS audit,
  (SELECT json_group_array(json_array(${DISPUTE_COLUMNS.map((c) => DISPUTE_SOURCE[c]).join(", ")}))
     FROM (SELECT * FROM disputes WHERE version > s.disputes_exported_version ORDER BY version LIMIT ?2) AS d
     JOIN transfers t ON t.id = d.transfer_id) AS disputes
  FROM export_state s WHERE id = 1`;

/** `INSERT … SELECT` from the JSON rows bound to `?2`; `WHERE true` keeps `ON CONFLICT` from reading as a join clause. */
function insertFromJson(table: string, columns: readonly string[]): string {
  const values = columns.map((_, i) => `r.value ->> ${i}`).join(", ");
  return `INSERT INTO ${table} (account_id, ${columns.join(", ")}) SELECT ?1, ${values} FROM json_each(?2) AS r WHERE true ON CONFLICT DO NOTHING`;
}
const INSERT_TRANSFERS = insertFromJson("transfers", TRANSFER_COLUMNS);
const INSERT_LEGS = insertFromJson("ledger_entries", LEG_COLUMNS);
const INSERT_AUDIT = insertFromJson("audit_events", AUDIT_COLUMNS);
/** A dispute lands as it is now; an older version (a late resend) never overwrites a newer one. */
const UPSERT_DISPUTES = insertFromJson("disputes", DISPUTE_COLUMNS).replace(
  "ON CONFLICT DO NOTHING",
  `ON CONFLICT (id) DO UPDATE SET ${["status", "evidence", "contested_at", "resolved_at", "version"].map((c) => `${c} = excluded.${c}`).join(", ")}
   WHERE excluded.version > disputes.version`,
);

type Cell = string | number | null;
const col = (name: (typeof TRANSFER_COLUMNS)[number]) => TRANSFER_COLUMNS.indexOf(name);
const T = {
  seq: col("seq"),
  id: col("id"),
  kind: col("kind"),
  amount: col("amount"),
  currency: col("currency"),
  provider: col("provider_id"),
  fee: col("fee"),
  tags: col("tags"),
  createdAt: col("created_at"),
};

/** A page as the ledger rendered it (outboxPageSql). */
export type OutboxPage = { transfers: string; audit: string; disputes: string };
/** How many rows of each kind the page held and the last seq (version) of each (null: none), for the cursors. */
export type Exported = {
  transfers: number;
  audit: number;
  disputes: number;
  lastSeq: number | null;
  lastAuditSeq: number | null;
  lastDisputeVersion: number | null;
};

/**
 * Writes a page of journal transfers (with their double-entry legs), audit events and changed
 * disputes to D1 in one atomic batch (one D1 call). Idempotent: rows already present for
 * `(account, seq)` are left as they are, and a dispute only moves to a newer version, so
 * exporting twice lands once (I7).
 */
export async function exportPage(d1: D1Database, accountId: string, page: OutboxPage): Promise<Exported> {
  const transfers = JSON.parse(page.transfers) as Cell[][];
  const audit = JSON.parse(page.audit) as Cell[][];
  const disputes = JSON.parse(page.disputes) as Cell[][];
  const statements: D1PreparedStatement[] = [];
  if (transfers.length > 0) {
    const legs: Cell[][] = [];
    for (const t of transfers) {
      const transfer = {
        kind: t[T.kind] as LegSource["kind"],
        amount: Number(t[T.amount]),
        fee: Number(t[T.fee]),
        provider_id: t[T.provider] as string | null,
      };
      for (const [i, l] of legsOf(accountId, transfer).entries()) {
        legs.push([t[T.seq] ?? null, i, t[T.id] ?? null, l.ledgerAccount, l.amount, t[T.currency] ?? null, t[T.tags] ?? null, t[T.createdAt] ?? null]);
      }
    }
    statements.push(d1.prepare(INSERT_TRANSFERS).bind(accountId, page.transfers));
    statements.push(d1.prepare(INSERT_LEGS).bind(accountId, JSON.stringify(legs)));
  }
  if (audit.length > 0) statements.push(d1.prepare(INSERT_AUDIT).bind(accountId, page.audit));
  if (disputes.length > 0) statements.push(d1.prepare(UPSERT_DISPUTES).bind(accountId, page.disputes));
  if (statements.length > 0) await d1.batch(statements);
  // The highest seq, not the last row's: an aggregate's input order is not a promise of SQL's.
  const last = (rows: Cell[][]) => (rows.length > 0 ? Math.max(...rows.map((r) => Number(r[0]))) : null);
  const lastVersion = disputes.length > 0 ? Math.max(...disputes.map((r) => Number(r[DISPUTE_COLUMNS.indexOf("version")]))) : null;
  return {
    transfers: transfers.length,
    audit: audit.length,
    disputes: disputes.length,
    lastSeq: last(transfers),
    lastAuditSeq: last(audit),
    lastDisputeVersion: lastVersion,
  };
}
