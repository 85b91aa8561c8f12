import type { Sql } from "./sql";
import type { Transfer } from "./types";

/**
 * A pass's calls, as the other rooms use them inside their own transactions: the reserve finds
 * the pass that covers a call and draws one of its calls, a hold that ends without a charge gives
 * it back, and a refund of a pass's whole charge ends the pass (passes.ts has the rest).
 */

/** The active pass that covers a call of one of `planIds` now, soonest ending first; null: none. */
export function coveringPass(sql: Sql, planIds: readonly string[], now: number): string | null {
  if (planIds.length === 0) return null;
  const marks = planIds.map(() => "?").join(", ");
  const row = sql.one(
    `SELECT id FROM passes WHERE plan_id IN (${marks}) AND status = 'active' AND (expires_at IS NULL OR expires_at > ?)
       AND (calls_left IS NULL OR calls_left > 0) ORDER BY expires_at IS NULL, expires_at, created_at LIMIT 1`,
    ...planIds,
    now,
  );
  return row ? String(row.id) : null;
}

/** A call drawn from a pass (its last call leaves it `used_up`); a pass with no call limit is unchanged. */
export function drawCall(sql: Sql, passId: string): void {
  sql.exec(
    "UPDATE passes SET calls_left = calls_left - 1, status = CASE WHEN calls_left = 1 THEN 'used_up' ELSE status END WHERE id = ? AND calls_left IS NOT NULL",
    passId,
  );
}

/** A call that failed gives its pass call back (as a void gives back money). */
export function giveCallBack(sql: Sql, passId: string): void {
  sql.exec(
    "UPDATE passes SET calls_left = calls_left + 1, status = CASE WHEN status = 'used_up' THEN 'active' ELSE status END WHERE id = ? AND calls_left < calls",
    passId,
  );
}

/**
 * A pass's charge refunded in full (by its provider, a dispute the payer won, or an SLA breach)
 * takes back what it bought: if it is the pass's latest period, the pass ends now and does not
 * renew. A partial refund (pro rata) leaves the pass as it is.
 */
export function endPassIfRefunded(sql: Sql, capture: Transfer, refundedNow: number, now: number): string | null {
  if ((capture.reason !== "pass_purchase" && capture.reason !== "pass_renewal") || capture.reference === null) return null;
  if (refundedNow < capture.amount) return null;
  const latest = sql.one("SELECT id FROM transfers WHERE kind = 'capture' AND reference = ? ORDER BY seq DESC LIMIT 1", capture.reference);
  if (latest?.id !== capture.id) return null;
  const ended = sql.one(
    `UPDATE passes SET status = 'expired', auto_renew = 0, expires_at = CASE WHEN expires_at IS NULL THEN NULL ELSE MIN(expires_at, ?2) END,
       calls_left = CASE WHEN calls IS NULL THEN NULL ELSE 0 END
     WHERE id = ?1 AND status IN ('active', 'used_up') RETURNING id`,
    capture.reference,
    now,
  );
  return ended ? String(ended.id) : null;
}
