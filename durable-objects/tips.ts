import { platformFee } from "../core/pricing/fees";
import type { LiveKeys } from "./admin";
import { priorAnswer, rememberAnswer } from "./idempotency";
import { isAmount, type Journal } from "./journal";
import { checkMandate, utcDay } from "./mandate-check";
import { limitsOf, mandateRow, spendUnder, useOf } from "./mandates";
import { spendBlocked } from "./spend-gate";
import { countCall, limitsOfKey, velocityRefusal } from "./velocity";
import { exportDue, type Outbox } from "./outbox";
import type { Row } from "./sql";
import type { Turns } from "./turns";
import type { TipInput, TipResult } from "./types";

type TipAnswer = Extract<TipResult, { ok: true }>;

/**
 * Tips: a one-off gift from the account to a service's provider, with no call and no hold. The
 * checks (key, kill switches, currency, the key's mandate and its `max_tip`, the balance) and the
 * money (debits, the journal's `tip` transfer, the mandate's spend, the audit event) are one
 * transaction, so racing tips see each other and never overdraw the account (I2) or a cap.
 */
export async function tip(journal: Journal, turns: Turns, outbox: Outbox, keys: LiveKeys, input: TipInput): Promise<TipResult> {
  await turns.inTurn();
  const now = Date.now();
  const result = journal.txn(() => tipNow(journal, keys, input, now));
  if (result.ok && !result.replayed) await outbox.scheduleAlarm(exportDue());
  else await outbox.exportAudit(); // a refusal is on the trail, and the trail goes to D1 too
  return result;
}

function tipNow(journal: Journal, keys: LiveKeys, input: TipInput, now: number): TipResult {
  const sql = journal.sql;
  // The Worker validates amounts; the ledger refuses a bad one anyway (I11), whoever calls it.
  if (!isAmount(input.amount) || input.amount === 0 || !isAmount(input.feeBps) || input.feeBps > 10_000) return { ok: false, code: "invalid_amount" };
  const meta = journal.meta();
  // A made-up agent key for an account that was never opened is just an invalid key.
  if (!meta) return { ok: false, code: input.keyHash === null ? "not_found" : "invalid_key" };
  const key: Row | null = input.keyHash === null ? null : keys.get(input.keyHash);
  if (input.keyHash !== null && !key) return { ok: false, code: "invalid_key" };
  const keyId = key ? String(key.id) : null;
  const actor = keyId ? (`agent:${keyId}` as const) : "owner";
  const about = { agent_key_id: keyId, service_id: input.serviceId, amount: input.amount };
  const refuse = (reason: string, mandateId: string | null = null) =>
    journal.audit({ actor, event: "tip", ...about, mandate_id: mandateId, outcome: "refused", reason }, now);
  const blocked = spendBlocked(meta, key, input.currency);
  if (blocked) {
    refuse(blocked.code);
    return blocked;
  }
  // Keys are the caller's own: an agent's key and the owner's cannot collide.
  const idemKey = input.idempotencyKey ? `tip:${keyId ?? "owner"}:${input.idempotencyKey}` : null;
  const prior = priorAnswer<TipAnswer>(sql, idemKey, input.fingerprint);
  if (prior) return prior;
  const mandate = key?.mandate_id == null ? null : mandateRow(sql, String(key.mandate_id));
  const day = utcDay(now);
  if (mandate) {
    const refusal = mandateRefusal(mandate, input, now, useOf(sql, mandate, day));
    if (refusal) {
      refuse(refusal.code, refusal.mandate_id);
      return refusal;
    }
  }
  // A tip is one of the key's paid acts: its per-minute limits bound it like a call.
  const limited = key ? velocityRefusal(sql, key, now, input.amount) : null;
  if (limited) {
    refuse(`velocity_${limited.over}`, mandate ? String(mandate.id) : null);
    return limited.refusal;
  }
  // The tip's money in one statement: it moves only if the balance covers it (the CHECK on the
  // row would refuse an overdraft anyway).
  const paid = sql.one("UPDATE balance SET debits = debits + ?1 WHERE id = 1 AND credits - debits - pending >= ?1 RETURNING 1 AS ok", input.amount);
  if (!paid) {
    refuse("insufficient_funds", mandate ? String(mandate.id) : null);
    return { ok: false, code: "insufficient_funds", price: input.amount, available: journal.readBalance().available, currency: meta.currency };
  }
  const mandateId = mandate ? String(mandate.id) : null;
  const transfer = journal.appendTransfer({
    kind: "tip",
    amount: input.amount,
    fee: platformFee(input.amount, input.feeBps),
    call: { request_id: null, service_id: input.serviceId, provider_id: input.providerId, agent_key_id: keyId, mandate_id: mandateId, tags: null },
    detail: input.message === null ? undefined : { reason: input.message },
    now,
  });
  if (mandateId) spendUnder(sql, mandateId, day, input.amount);
  if (key) countCall(sql, String(key.id), limitsOfKey(key), now, input.amount);
  journal.audit(
    { actor, event: "tip", ...about, mandate_id: mandateId, intent_hash: mandate ? String(mandate.intent_hash) : null, outcome: "ok", reason: transfer.id },
    now,
  );
  const answer: TipAnswer = { ok: true, replayed: false, transfer, balance: journal.readBalance() };
  rememberAnswer(sql, idemKey, input.fingerprint, answer, now);
  return answer;
}

/**
 * What the key's mandate says of a tip: its window and service list first, then `max_tip`
 * (null: tips allowed within the other limits; 0: none; n: at most n each), then the per-call,
 * total and daily caps a tip counts against like any spend.
 */
function mandateRefusal(mandate: Row, input: TipInput, now: number, used: ReturnType<typeof useOf>): Extract<TipResult, { mandate_id: string }> | null {
  const mandateId = String(mandate.id);
  const limits = limitsOf(mandate);
  const refused = (code: Extract<TipResult, { mandate_id: string }>["code"], detail: string) => ({ ok: false as const, code, mandate_id: mandateId, detail });
  // Amount 0 checks the window and the service list alone: no cap is passed by nothing.
  const scope = checkMandate(limits, { now, serviceSlug: input.serviceSlug, amount: 0 }, used);
  if (scope) return refused(scope, `The key's mandate refuses this tip (${scope}).`);
  const maxTip = mandate.max_tip == null ? null : Number(mandate.max_tip);
  if (maxTip === 0) return refused("mandate_tip_not_allowed", "The key's mandate allows no tips.");
  if (maxTip !== null && input.amount > maxTip) return refused("mandate_tip_exceeded", `The key's mandate allows tips of at most ${maxTip}.`);
  const cap = checkMandate(limits, { now, serviceSlug: input.serviceSlug, amount: input.amount }, used);
  if (cap) return refused(cap, `The key's mandate refuses this tip (${cap}).`);
  return null;
}
