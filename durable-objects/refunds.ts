import { refundFeePart } from "../core/legs";
import { priorAnswer, rememberAnswer } from "./idempotency";
import { isAmount, type Journal } from "./journal";
import { exportDue, type Outbox } from "./outbox";
import { endPassIfRefunded } from "./pass-calls";
import { toTransfer } from "./rows";
import type { Turns } from "./turns";
import type { Sql } from "./sql";
import type { Actor, RefundInput, RefundResult, Transfer } from "./types";

/**
 * Refunds: money a capture took, given back to the payer. A refund is its own journal transfer
 * (kind `refund`, `refund_of` the capture) — history is never edited (I5) — and the refunds of one
 * capture never sum past it (I5): the sum is read and the refund appended in one transaction,
 * which no other write of this account can interleave with.
 *
 * Only this object knows what is still refundable; the Worker checks who may ask (D1 says who was
 * paid) and the object checks it again against its own journal.
 */
export async function refund(journal: Journal, turns: Turns, outbox: Outbox, input: RefundInput): Promise<RefundResult> {
  await turns.inTurn();
  const sql = journal.sql;
  const result = journal.txn((): RefundResult => {
    const meta = journal.meta();
    if (!meta) return { ok: false, code: "not_found" };
    if (input.amount !== null && (!isAmount(input.amount) || input.amount === 0)) return { ok: false, code: "invalid_amount" };
    // Keys are the caller's own: two providers refunding on one account cannot collide.
    const key = input.idempotencyKey ? `refund:${input.actor}:${input.idempotencyKey}` : null;
    const prior = priorAnswer<Extract<RefundResult, { ok: true }>>(sql, key, input.fingerprint);
    if (prior) return prior;
    const row = sql.one("SELECT * FROM transfers WHERE id = ?", input.transferId);
    // Another provider's charge reads as absent: a provider learns nothing of charges not its own.
    if (!row || (input.providerId !== null && row.provider_id !== input.providerId)) return { ok: false, code: "not_found" };
    if (row.kind !== "capture") return { ok: false, code: "not_refundable" };
    const capture = toTransfer(row, meta.currency);
    // What an open dispute claims is neither refundable nor disputable until the dispute ends.
    const refundable = capture.amount - refundedOf(sql, capture.id) - claimedByOpenDispute(sql, capture.id);
    const amount = input.amount ?? refundable;
    if (amount === 0 || amount > refundable) return { ok: false, code: "refund_exceeds_charge", refundable };
    const now = Date.now();
    const transfer = appendRefund(journal, capture, amount, { actor: input.actor, reason: input.reason ?? "refund", now });
    const response = { ok: true as const, replayed: false, transfer, balance: journal.readBalance() };
    rememberAnswer(sql, key, input.fingerprint, response, now);
    return response;
  });
  if (result.ok && !result.replayed) await outbox.scheduleAlarm(exportDue());
  return result;
}

/** What the refunds of a capture have given back so far. */
export function refundedOf(sql: Sql, captureId: string): number {
  return Number(sql.one("SELECT COALESCE(SUM(amount), 0) AS n FROM transfers WHERE refund_of = ?", captureId)?.n ?? 0);
}

/** What an open dispute of a capture claims (0: none open). */
export function claimedByOpenDispute(sql: Sql, captureId: string): number {
  return Number(sql.one("SELECT COALESCE(SUM(amount), 0) AS n FROM disputes WHERE transfer_id = ? AND status = 'open'", captureId)?.n ?? 0);
}

/**
 * Appends a refund of `amount` of `capture` (the caller has checked it is refundable) with its
 * audit event: the payer's net charges go down by `amount`, the provider gives back its share and
 * the platform the fee part (refundFeePart). Runs inside the caller's transaction.
 */
export function appendRefund(
  journal: Journal,
  capture: Transfer,
  amount: number,
  how: { actor: Actor; reason: string; disputeId?: string; now: number },
): Transfer {
  const sql = journal.sql;
  const before = refundedOf(sql, capture.id);
  // Debits are the account's net charges: a refund lowers them, so `debits ≥ 0` and the
  // no-overdraft CHECK (I2) hold as they are (debits never drop below what was captured and not refunded).
  sql.exec("UPDATE balance SET debits = debits - ? WHERE id = 1", amount);
  const fee = refundFeePart(capture, before, amount);
  const transfer = journal.appendTransfer({
    kind: "refund",
    amount,
    fee,
    refundOf: capture,
    disputeId: how.disputeId,
    detail: { reason: how.reason },
    now: how.now,
  });
  const passEnded = endPassIfRefunded(sql, capture, before + amount, how.now);
  journal.audit(
    {
      actor: how.actor,
      event: "refund",
      agent_key_id: capture.agent_key_id,
      mandate_id: capture.mandate_id,
      service_id: capture.service_id,
      request_id: capture.request_id,
      amount,
      outcome: "ok",
      reason: `${capture.id}: ${how.reason}`,
    },
    how.now,
  );
  if (passEnded)
    journal.audit({ actor: how.actor, event: "pass_ended", service_id: capture.service_id, outcome: "ok", reason: `${passEnded}: refunded` }, how.now);
  return transfer;
}
