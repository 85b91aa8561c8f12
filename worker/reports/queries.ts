import { and, desc, eq, lt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { transfers } from "../db/schema";

/** Where a newest-first listing continues: below this time (epoch ms) and, at that time, this id. */
export type AtPosition = { at: number; id: string };

/** A settled transfer as D1 holds it (what providers and finance see). */
export type SettledTransfer = {
  id: string;
  account_id: string;
  seq: number;
  kind: string;
  amount: number;
  fee: number;
  currency: string;
  request_id: string | null;
  service_id: string | null;
  agent_key_id: string | null;
  usage: Record<string, unknown> | null;
  shortfall: number;
  reason: string | null;
  created_at: string;
};

/**
 * A service's settled transfers from D1, newest first. `after` is the position of the previous
 * page's last row (its `created_at` and id), so pages stay stable while new rows arrive.
 */
/**
 * One page of a newest-first listing that fetched `limit + 1` rows (the extra one says whether
 * more follow), and the position of its last row to continue below.
 */
export function newestFirstPage<R, V>(rows: readonly R[], limit: number, view: (row: R) => V, positionOf: (row: R) => AtPosition) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { data: page.map(view), next: rows.length > limit && last !== undefined ? positionOf(last) : null };
}

/** D1 transfers newest first (`created_at`, then id), continuing below `after`: the keyset of every such listing. */
export function transfersAfter(after: AtPosition | null) {
  return after ? or(lt(transfers.createdAt, after.at), and(eq(transfers.createdAt, after.at), lt(transfers.id, after.id))) : undefined;
}

export async function serviceTransfers(db: Db, serviceId: string, limit: number, after: AtPosition | null) {
  const position = transfersAfter(after);
  const rows = await db
    .select()
    .from(transfers)
    .where(and(eq(transfers.serviceId, serviceId), position))
    .orderBy(desc(transfers.createdAt), desc(transfers.id))
    .limit(limit + 1);
  return newestFirstPage(
    rows,
    limit,
    (r): SettledTransfer => ({
      id: r.id,
      account_id: r.accountId,
      seq: r.seq,
      kind: r.kind,
      amount: r.amount,
      fee: r.fee,
      currency: r.currency,
      request_id: r.requestId,
      service_id: r.serviceId,
      agent_key_id: r.agentKeyId,
      usage: r.usage ? (JSON.parse(r.usage) as Record<string, unknown>) : null,
      shortfall: r.shortfall,
      reason: r.reason,
      created_at: new Date(r.createdAt).toISOString(),
    }),
    (r) => ({ at: r.createdAt, id: r.id }),
  );
}
