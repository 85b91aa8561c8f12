import type { Sql } from "./sql";
import type { ReserveResult, StoredResponse } from "./types";

/**
 * How long an Idempotency-Key of a proxied call is remembered: a day after its first call, as
 * payment APIs commonly do. After that the same key starts a new call.
 */
export const CALL_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Idempotency for proxied calls, per agent key (I12). The first call with a key is reserved as
 * usual and remembered with its hold. Every key then reaches one of two final states:
 * - replayable: the call completed and was settled; its response was kept in the same
 *   transaction as its capture (`endCall`), and a retry with the same call gets it back, not
 *   forwarded, not charged again;
 * - freed: the call failed (voided), its hold expired, it did not complete (the client went away,
 *   the origin broke mid-stream), or a day passed; a retry is then a fresh call.
 * The same key with another call is 422 while it is remembered; a retry while the first call's
 * hold is still pending is 409.
 */
export function priorCall(sql: Sql, keyId: string, idem: { key: string; fingerprint: string }, now: number): Extract<ReserveResult, { ok: false }> | null {
  const row = sql.one(
    `SELECT c.fingerprint, c.response, c.created_at, h.state FROM call_keys c JOIN holds h ON h.id = c.hold_id
     WHERE c.agent_key_id = ? AND c.idempotency_key = ?`,
    keyId,
    idem.key,
  );
  if (!row) return null;
  const forget = () => {
    sql.exec("DELETE FROM call_keys WHERE agent_key_id = ? AND idempotency_key = ?", keyId, idem.key);
    return null;
  };
  if (Number(row.created_at) <= now - CALL_KEY_TTL_MS) return forget();
  if (row.fingerprint !== idem.fingerprint) return { ok: false, code: "idempotency_mismatch" };
  if (row.response != null) return { ok: false, code: "idempotency_replay", response: JSON.parse(String(row.response)) as StoredResponse };
  // A hold that ended with nothing kept (voided, expired, or captured for a call that did not
  // complete) frees the key; only a pending one means the first call is still running.
  if (row.state !== "pending") return forget();
  return { ok: false, code: "idempotency_in_flight" };
}

export function rememberCall(sql: Sql, keyId: string, idem: { key: string; fingerprint: string }, holdId: string, requestId: string, now: number): void {
  sql.exec(
    "INSERT INTO call_keys (agent_key_id, idempotency_key, fingerprint, hold_id, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    keyId,
    idem.key,
    idem.fingerprint,
    holdId,
    requestId,
    now,
  );
}

/**
 * The final state of a call's key: `response` to replay it, or null to free it (a call that did
 * not complete must not be replayed: its retry would get more than was charged, or less than it
 * asked for). A key already given a response keeps its first one.
 */
export function endCall(sql: Sql, holdId: string, response: StoredResponse | null): void {
  if (response) sql.exec("UPDATE call_keys SET response = ? WHERE hold_id = ? AND response IS NULL", JSON.stringify(response), holdId);
  else sql.exec("DELETE FROM call_keys WHERE hold_id = ? AND response IS NULL", holdId);
}

/** Forgets keys older than CALL_KEY_TTL_MS (they would be freed on their next use anyway). */
export function pruneCallKeys(sql: Sql, now: number): void {
  sql.exec("DELETE FROM call_keys WHERE created_at <= ?", now - CALL_KEY_TTL_MS);
}

/** When the oldest remembered key expires, so the alarm can forget it (null: none). */
export function nextCallKeyExpiry(sql: Sql): number | null {
  const row = sql.one("SELECT MIN(created_at) AS at FROM call_keys");
  return row?.at == null ? null : Number(row.at) + CALL_KEY_TTL_MS;
}
