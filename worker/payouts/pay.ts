import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { type Leg, payoutLegs } from "../../core/legs";
import { exactSum } from "../../core/pricing/amount";
import { newId } from "../../core/ids";
import { ledgerEntries, payouts } from "../db/schema";
import { availablePart, providerLegs } from "./available";

export type PayoutRow = typeof payouts.$inferSelect;

export type PayoutRequest = {
  providerId: string;
  amount: number;
  currency: string;
  reference: string | null;
  idempotencyKey: string | null;
  /** What the request asked for (amount, currency, reference): a reused key must ask the same. */
  fingerprint: string;
  now: number;
  /** Credit legs written after this instant are pending, not payable (see available.ts). */
  pendingSince: number;
};

export type PayoutResult =
  | { ok: true; payout: PayoutRow; replayed: boolean }
  | { ok: false; code: "idempotency_mismatch" }
  | { ok: false; code: "insufficient_provider_funds"; available: bigint };

/**
 * Pays `amount` out of the provider's available balance: I15, a provider is never paid more than
 * it has available, however many payouts race.
 *
 * The check and the write are ONE D1 batch, which D1 runs as one transaction on its single writer,
 * so no other write lands between them:
 * 1. a conditional `INSERT … SELECT … WHERE <available> >= amount` of the payout row, with the
 *    provider's next seq. Hand-written SQL on purpose: the check has to be inside the very
 *    statement that writes, over the legs that define the balance, and the query builder has no
 *    conditional insert without a table to select from. A reused idempotency key makes it insert
 *    nothing (`ON CONFLICT DO NOTHING` on `payouts_idempotency`);
 * 2. the payout's two legs (core/legs.ts `payoutLegs`), copied from the payout row, so they exist
 *    only if step 1 wrote it;
 * 3. reads of what happened: this payout, the key's payout, and what is available now.
 *
 * The statements go to D1's own `batch()` (drizzle's takes no raw SQL); the rule of what is
 * available is the query builder's fragments (available.ts), rendered here, so the check and the
 * balance read cannot disagree.
 */
export async function payOut(d1: D1Database, r: PayoutRequest): Promise<PayoutResult> {
  const id = newId("po");
  const statement = (query: SQL) => {
    const q = dialect.sqlToQuery(query);
    return d1.prepare(q.sql).bind(...q.params);
  };
  const available = sql`SELECT COALESCE(SUM(${availablePart(r.pendingSince)}), 0) FROM ${ledgerEntries} WHERE ${providerLegs(r.providerId, r.currency)}`;
  const legInsert = (leg: Leg, index: number) =>
    statement(sql`INSERT INTO ${ledgerEntries} (account_id, seq, leg, transfer_id, ledger_account, amount, currency, tags, created_at)
      SELECT provider_id, seq, ${index}, id, ${leg.ledgerAccount}, ${leg.amount}, currency, NULL, created_at FROM ${payouts} WHERE id = ${id}`);
  const results = await d1.batch<Record<string, unknown>>([
    statement(sql`INSERT INTO ${payouts} (id, provider_id, seq, amount, currency, reference, idempotency_key, fingerprint, created_at)
      SELECT ${id}, ${r.providerId}, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ${payouts} WHERE provider_id = ${r.providerId}),
        ${r.amount}, ${r.currency}, ${r.reference}, ${r.idempotencyKey}, ${r.fingerprint}, ${r.now}
      WHERE (${available}) >= ${r.amount}
      ON CONFLICT DO NOTHING`),
    ...payoutLegs(r.providerId, r.amount).map(legInsert),
    statement(sql`SELECT ${PAYOUT_COLUMNS} FROM ${payouts} WHERE id = ${id}`),
    statement(sql`SELECT ${PAYOUT_COLUMNS} FROM ${payouts} WHERE provider_id = ${r.providerId} AND idempotency_key = ${r.idempotencyKey}`),
    statement(sql`SELECT CAST((${available}) AS TEXT) AS available`),
  ]);
  const [mine, byKey, availableNow] = results.slice(-3);
  const paid = mine?.results[0];
  if (paid) return { ok: true, payout: payoutRow(paid), replayed: false };
  // A null key matches no row (NULL = NULL is not true).
  const earlier = byKey?.results[0];
  if (earlier) {
    return earlier.fingerprint === r.fingerprint ? { ok: true, payout: payoutRow(earlier), replayed: true } : { ok: false, code: "idempotency_mismatch" };
  }
  return { ok: false, code: "insufficient_provider_funds", available: exactSum(availableNow?.results[0]?.available) };
}

const dialect = new SQLiteAsyncDialect();
const PAYOUT_COLUMNS = sql.raw("id, provider_id, seq, amount, currency, reference, idempotency_key, fingerprint, created_at");

function payoutRow(r: Record<string, unknown>): PayoutRow {
  const text = (v: unknown) => (v == null ? null : String(v));
  return {
    id: String(r.id),
    providerId: String(r.provider_id),
    seq: Number(r.seq),
    amount: Number(r.amount),
    currency: String(r.currency),
    reference: text(r.reference),
    idempotencyKey: text(r.idempotency_key),
    fingerprint: text(r.fingerprint),
    createdAt: Number(r.created_at),
  };
}
