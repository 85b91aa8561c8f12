import type { MandateLimits, MandateUse } from "./mandate-check";
import { jsonOrNull, type Row, type Sql } from "./sql";
import type { MandateInput } from "./types";

/**
 * A mandate's storage inside the AccountLedger: its terms (never changed once written) and its
 * counters (spent and pending, all time and per UTC day), moved in the same transaction as the
 * hold or capture that moves them.
 */
export function insertMandate(sql: Sql, id: string, m: MandateInput, intentHash: string, now: number): void {
  sql.exec(
    `INSERT INTO mandates (id, intent, intent_hash, max_total, max_per_call, max_per_day, valid_from, valid_until, services, tags, created_at, max_tip)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id,
    m.intent,
    intentHash,
    m.max_total,
    m.max_per_call,
    m.max_per_day,
    m.valid_from,
    m.valid_until,
    m.services ? JSON.stringify(m.services) : null,
    m.tags ? JSON.stringify(m.tags) : null,
    now,
    m.max_tip ?? null,
  );
}

export function mandateRow(sql: Sql, id: string): Row | null {
  return sql.one("SELECT * FROM mandates WHERE id = ?", id);
}

export function limitsOf(r: Row): MandateLimits {
  return {
    valid_from: Number(r.valid_from),
    valid_until: Number(r.valid_until),
    revoked_at: r.revoked_at == null ? null : Number(r.revoked_at),
    max_total: Number(r.max_total),
    max_per_call: Number(r.max_per_call),
    max_per_day: r.max_per_day == null ? null : Number(r.max_per_day),
    services: jsonOrNull<string[]>(r.services),
  };
}

export function useOf(sql: Sql, r: Row, day: string): MandateUse {
  const today = sql.one("SELECT spent + pending AS used FROM mandate_days WHERE mandate_id = ? AND day = ?", String(r.id), day);
  return { total: Number(r.spent) + Number(r.pending), today: Number(today?.used ?? 0) };
}

/** A new hold under the mandate: counts as pending until it settles. */
export function holdUnder(sql: Sql, mandateId: string, day: string, amount: number): void {
  sql.exec("UPDATE mandates SET pending = pending + ? WHERE id = ?", amount, mandateId);
  sql.exec(
    `INSERT INTO mandate_days (mandate_id, day, pending) VALUES (?, ?, ?)
     ON CONFLICT (mandate_id, day) DO UPDATE SET pending = pending + excluded.pending`,
    mandateId,
    day,
    amount,
  );
}

/** A hold under the mandate ends: its amount leaves pending, what was captured becomes spent. */
export function settleUnder(sql: Sql, mandateId: string, day: string, held: number, captured: number): void {
  sql.exec("UPDATE mandates SET pending = pending - ?, spent = spent + ? WHERE id = ?", held, captured, mandateId);
  sql.exec("UPDATE mandate_days SET pending = pending - ?, spent = spent + ? WHERE mandate_id = ? AND day = ?", held, captured, mandateId, day);
}

/** Money spent under the mandate at once, with no hold first (a pass bought or renewed, a tip). */
export function spendUnder(sql: Sql, mandateId: string, day: string, amount: number): void {
  sql.exec("UPDATE mandates SET spent = spent + ? WHERE id = ?", amount, mandateId);
  sql.exec(
    `INSERT INTO mandate_days (mandate_id, day, spent) VALUES (?, ?, ?)
     ON CONFLICT (mandate_id, day) DO UPDATE SET spent = spent + excluded.spent`,
    mandateId,
    day,
    amount,
  );
}
