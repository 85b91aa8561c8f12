import { CSV_HEADER, csvRow, entryCsvRow } from "./csv";
import type { JournalEntry } from "./journal-entry";
import type { Period } from "./period";

export type { JournalEntry };

/** Who sees what: the operator everything, a provider its services' transfers, an owner its account's. */
export type EntryScope = { all: true } | { providerId: string } | { accountId: string };

/** Position after an entry, in the listing's order (created_at, account_id, seq, leg). */
export type EntryPosition = { createdAt: number; accountId: string; seq: number; leg: number };

type Row = {
  account_id: string;
  seq: number;
  leg: number;
  transfer_id: string;
  credit_account: string;
  debit_account: string | null;
  amount: number;
  currency: string;
  created_at: number;
  kind: string;
  request_id: string | null;
  mandate_id: string | null;
  service_id: string | null;
  reference: string | null;
  tags: string | null;
};

/** One page of entries in order, and the position to continue from (null at the end). */
export async function journalEntries(
  d1: D1Database,
  scope: EntryScope,
  period: Period,
  limit: number,
  after: EntryPosition | null,
): Promise<{ data: JournalEntry[]; next: EntryPosition | null }> {
  // One entry per leg on the transfer's "many" side: a credit or capture has one debit leg and
  // credit legs; a refund (a capture reversed) has one credit leg, the payer's, and debit legs.
  const where = ["(CASE WHEN t.kind = 'refund' THEN e.amount < 0 ELSE e.amount > 0 END)", "e.created_at >= ?", "e.created_at < ?"];
  const params: (string | number)[] = [period.from, period.to];
  if ("providerId" in scope) {
    where.push("t.provider_id = ?");
    params.push(scope.providerId);
  } else if ("accountId" in scope) {
    where.push("e.account_id = ?");
    params.push(scope.accountId);
  }
  if (after) {
    where.push("(e.created_at, e.account_id, e.seq, e.leg) > (?, ?, ?, ?)");
    params.push(after.createdAt, after.accountId, after.seq, after.leg);
  }
  params.push(limit + 1);
  const other = (sign: string) =>
    `(SELECT o.ledger_account FROM ledger_entries o WHERE o.account_id = e.account_id AND o.seq = e.seq AND o.amount ${sign} 0 ORDER BY o.leg LIMIT 1)`;
  const sql = `SELECT e.account_id, e.seq, e.leg, e.transfer_id, ABS(e.amount) AS amount, e.currency, e.created_at,
      CASE WHEN t.kind = 'refund' THEN ${other(">")} ELSE e.ledger_account END AS credit_account,
      CASE WHEN t.kind = 'refund' THEN e.ledger_account ELSE ${other("<")} END AS debit_account,
      t.kind, t.request_id, t.mandate_id, t.service_id, t.reference, e.tags
    FROM ledger_entries e JOIN transfers t ON t.account_id = e.account_id AND t.seq = e.seq
    WHERE ${where.join(" AND ")}
    ORDER BY e.created_at, e.account_id, e.seq, e.leg LIMIT ?`;
  const { results } = await d1
    .prepare(sql)
    .bind(...params)
    .all<Row>();
  const page = results.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toEntry),
    next: results.length > limit && last ? { createdAt: last.created_at, accountId: last.account_id, seq: last.seq, leg: last.leg } : null,
  };
}

function toEntry(r: Row): JournalEntry {
  const at = new Date(r.created_at).toISOString();
  return {
    id: `${r.transfer_id}:${r.leg}`,
    date: at.slice(0, 10),
    created_at: at,
    debit_account: r.debit_account,
    credit_account: r.credit_account,
    amount: r.amount,
    currency: r.currency,
    transfer_id: r.transfer_id,
    transfer_kind: r.kind,
    account_id: r.account_id,
    seq: r.seq,
    leg: r.leg,
    service_id: r.service_id,
    request_id: r.request_id,
    mandate_id: r.mandate_id,
    reference: r.reference,
    tags: r.tags ? (JSON.parse(r.tags) as Record<string, string>) : null,
  };
}

/**
 * The whole period as CSV, streamed page by page so a large export never sits in memory. A D1
 * failure mid-way errors the stream (the download fails visibly rather than ending short).
 */
export function journalCsvStream(d1: D1Database, scope: EntryScope, period: Period, pageSize = 500): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: EntryPosition | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(csvRow(CSV_HEADER)));
      }
      const page = await journalEntries(d1, scope, period, pageSize, after);
      if (page.data.length > 0) controller.enqueue(encoder.encode(page.data.map(entryCsvRow).join("")));
      after = page.next;
      if (!after) controller.close();
    },
  });
}
