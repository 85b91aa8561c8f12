import type { Sql } from "./sql";
import type { ReserveResult, StoredResponse } from "./types";

/**
 * Idempotency for proxied calls, per agent key (I12). The first call with a key is reserved as
 * usual and remembered with its hold; a retry with the same key and the same call gets the first
 * call's settled response back and is not forwarded or charged; with another call it gets 422;
 * while the first is unsettled, 409. A first call that ended without a charge (voided or expired)
 * frees its key, so the retry is a fresh attempt.
 */
export function priorCall(sql: Sql, keyId: string, idem: { key: string; fingerprint: string }): Extract<ReserveResult, { ok: false }> | null {
  const row = sql.one(
    `SELECT c.fingerprint, c.response, h.state FROM call_keys c JOIN holds h ON h.id = c.hold_id
     WHERE c.agent_key_id = ? AND c.idempotency_key = ?`,
    keyId,
    idem.key,
  );
  if (!row) return null;
  if (row.fingerprint !== idem.fingerprint) return { ok: false, code: "idempotency_mismatch" };
  if (row.response != null) return { ok: false, code: "idempotency_replay", response: JSON.parse(String(row.response)) as StoredResponse };
  if (row.state === "voided" || row.state === "expired") {
    sql.exec("DELETE FROM call_keys WHERE agent_key_id = ? AND idempotency_key = ?", keyId, idem.key);
    return null;
  }
  // Pending, or captured with its response not yet kept: the first call is still finishing.
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

export function keepCallResponse(sql: Sql, holdId: string, response: StoredResponse): void {
  sql.exec("UPDATE call_keys SET response = ? WHERE hold_id = ? AND response IS NULL", JSON.stringify(response), holdId);
}
