import type { Row, Sql } from "./sql";

/**
 * Per agent key velocity limits: calls and held spend per fixed one-minute window. Checked and
 * counted inside the reserve transaction, so a burst of racing calls cannot pass the limit.
 */
export type VelocityLimits = { max_calls_per_minute: number | null; max_spend_per_minute: number | null };

export const MINUTE_MS = 60_000;

export function limitsOfKey(key: Row): VelocityLimits {
  return {
    max_calls_per_minute: key.max_calls_per_minute == null ? null : Number(key.max_calls_per_minute),
    max_spend_per_minute: key.max_spend_per_minute == null ? null : Number(key.max_spend_per_minute),
  };
}

/** Null when the call fits this minute's window; otherwise which limit it breaks. */
export function velocityCheck(sql: Sql, keyId: string, limits: VelocityLimits, now: number, amount: number): "calls" | "spend" | null {
  if (limits.max_calls_per_minute === null && limits.max_spend_per_minute === null) return null;
  const used = sql.one("SELECT calls, spend FROM key_minutes WHERE agent_key_id = ? AND minute = ?", keyId, Math.floor(now / MINUTE_MS));
  const calls = Number(used?.calls ?? 0);
  const spend = Number(used?.spend ?? 0);
  if (limits.max_calls_per_minute !== null && calls + 1 > limits.max_calls_per_minute) return "calls";
  if (limits.max_spend_per_minute !== null && spend + amount > limits.max_spend_per_minute) return "spend";
  return null;
}

/** Counts an accepted call in its minute, and forgets windows older than the previous one. */
export function countCall(sql: Sql, keyId: string, limits: VelocityLimits, now: number, amount: number): void {
  if (limits.max_calls_per_minute === null && limits.max_spend_per_minute === null) return;
  const minute = Math.floor(now / MINUTE_MS);
  sql.exec(
    `INSERT INTO key_minutes (agent_key_id, minute, calls, spend) VALUES (?, ?, 1, ?)
     ON CONFLICT (agent_key_id, minute) DO UPDATE SET calls = calls + 1, spend = spend + excluded.spend`,
    keyId,
    minute,
    amount,
  );
  sql.exec("DELETE FROM key_minutes WHERE agent_key_id = ? AND minute < ?", keyId, minute - 1);
}

/** Seconds until the current window ends (for `Retry-After`). */
export function retryAfterSeconds(now: number): number {
  return Math.max(1, Math.ceil((MINUTE_MS - (now % MINUTE_MS)) / 1000));
}

export type RateLimited = { ok: false; code: "rate_limited"; retry_after: number; detail: string };

/**
 * Whether a paid act of the key (a call, a pass bought, a tip) breaks its per-minute limits now:
 * every one counts as an act and its amount as spend, so a key's limits bound all it spends.
 */
export function velocityRefusal(sql: Sql, key: Row, now: number, amount: number): { over: "calls" | "spend"; refusal: RateLimited } | null {
  const over = velocityCheck(sql, String(key.id), limitsOfKey(key), now, amount);
  if (over === null) return null;
  const detail = over === "calls" ? "The key's calls-per-minute limit is reached." : "The key's spend-per-minute limit is reached.";
  return { over, refusal: { ok: false, code: "rate_limited", retry_after: retryAfterSeconds(now), detail } };
}
