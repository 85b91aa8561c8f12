import { priorAnswer, rememberAnswer } from "./idempotency";
import { isAmount, type Journal } from "./journal";
import { exportDue, type Outbox } from "./outbox";
import type { Turns } from "./turns";
import type { CreditInput, CreditResult } from "./types";

/** A top-up from outside money (I3: the same idempotency key and body replays the first result). */
export async function credit(journal: Journal, turns: Turns, outbox: Outbox, input: CreditInput): Promise<CreditResult> {
  await turns.inTurn();
  const sql = journal.sql;
  const result = journal.txn((): CreditResult => {
    if (!journal.meta()) return { ok: false, code: "not_found" };
    if (!isAmount(input.amount) || input.amount === 0) return { ok: false, code: "invalid_amount" };
    const key = input.idempotencyKey ? `credit:${input.idempotencyKey}` : null;
    const prior = priorAnswer<Extract<CreditResult, { ok: true }>>(sql, key, input.fingerprint);
    if (prior) return prior;
    const now = Date.now();
    // Credits stay at most 2^53 − 1, so every balance figure (debits and holds never exceed
    // credits) is an exact JSON number; a credit past that is refused, not rounded.
    const added = sql.exec("UPDATE balance SET credits = credits + ?1 WHERE id = 1 AND credits + ?1 <= ?2", input.amount, Number.MAX_SAFE_INTEGER);
    if (added.rowsWritten !== 1) return { ok: false, code: "amount_out_of_range" };
    const transfer = journal.appendTransfer({ kind: "credit", amount: input.amount, reference: input.reference, now });
    journal.audit({ actor: input.actor, event: "credit", amount: input.amount, outcome: "ok", reason: input.reference }, now);
    const response = { ok: true as const, replayed: false, transfer, balance: journal.readBalance() };
    rememberAnswer(sql, key, input.fingerprint, response, now);
    return response;
  });
  if (result.ok && !result.replayed) await outbox.scheduleAlarm(exportDue());
  return result;
}
