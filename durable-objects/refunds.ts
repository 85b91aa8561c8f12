import { refundFeePart } from "../core/legs";
import { priorAnswer, rememberAnswer } from "./idempotency";
import { isAmount, type Journal } from "./journal";
import { exportDue, type Outbox } from "./outbox";
import { toTransfer } from "./rows";
import type { Turns } from "./turns";
import type { RefundInput, RefundResult } from "./types";

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
    const before = Number(sql.one("SELECT COALESCE(SUM(amount), 0) AS n FROM transfers WHERE refund_of = ?", capture.id)?.n ?? 0);
    const refundable = capture.amount - before;
    const amount = input.amount ?? refundable;
    if (amount === 0 || amount > refundable) return { ok: false, code: "refund_exceeds_charge", refundable };
    const now = Date.now();
    // Debits are the account's net charges: a refund lowers them, so `debits ≥ 0` and the
    // no-overdraft CHECK (I2) hold as they are (debits never drop below what was captured and not refunded).
    sql.exec("UPDATE balance SET debits = debits - ? WHERE id = 1", amount);
    const fee = refundFeePart(capture, before, amount);
    const transfer = journal.appendTransfer({ kind: "refund", amount, fee, refundOf: capture, detail: { reason: input.reason ?? "refund" }, now });
    journal.audit(
      {
        actor: input.actor,
        event: "refund",
        agent_key_id: capture.agent_key_id,
        mandate_id: capture.mandate_id,
        service_id: capture.service_id,
        request_id: capture.request_id,
        amount,
        outcome: "ok",
        reason: `${capture.id}: ${input.reason ?? "refund"}`,
      },
      now,
    );
    const response = { ok: true as const, replayed: false, transfer, balance: journal.readBalance() };
    rememberAnswer(sql, key, input.fingerprint, response, now);
    return response;
  });
  if (result.ok && !result.replayed) await outbox.scheduleAlarm(exportDue());
  return result;
}
