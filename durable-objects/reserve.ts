import { newId } from "../core/ids";
import { mergeTags, type Tags } from "../core/tags";
import type { LiveKeys } from "./admin";
import { priorCall, rememberCall } from "./call-keys";
import { isAmount, type Journal } from "./journal";
import { checkMandate, utcDay } from "./mandate-check";
import { holdUnder, limitsOf, mandateRow, useOf } from "./mandates";
import { coveringPass, drawCall } from "./pass-calls";
import { spendBlocked } from "./spend-gate";
import { jsonOrNull } from "./sql";
import type { ReserveInput, ReserveResult } from "./types";
import { countCall, limitsOfKey, velocityRefusal } from "./velocity";

/**
 * Key check, mandate check and hold in one transaction (I2, I9): the call is forwarded only if
 * this succeeds, and racing calls see each other's holds. The caller (the facade) has waited
 * for its turn and schedules the alarm after; this adds no read or await of its own.
 */
export function reserveNow(journal: Journal, keys: LiveKeys, input: ReserveInput, now: number): ReserveResult {
  const sql = journal.sql;
  return journal.txn((): ReserveResult => {
    // The Worker validates amounts; the ledger refuses a bad one anyway (I11), whoever calls it.
    if (!isAmount(input.amount)) return { ok: false, code: "invalid_amount" };
    const meta = journal.meta();
    const key = meta && keys.get(input.keyHash);
    if (!meta || !key) return { ok: false, code: "invalid_key" };
    const keyId = String(key.id);
    const refuse = (reason: string) =>
      journal.audit(
        {
          actor: `agent:${keyId}`,
          event: "hold",
          agent_key_id: keyId,
          service_id: input.serviceId,
          request_id: input.requestId,
          amount: input.amount,
          outcome: "refused",
          reason,
        },
        now,
      );
    const blocked = spendBlocked(meta, key, input.currency);
    if (blocked) {
      refuse(blocked.code);
      return blocked;
    }
    if (input.idempotency) {
      const prior = priorCall(sql, keyId, input.idempotency, now);
      if (prior) return prior;
    }
    // A call one of the service's plans covers is served by an active pass of it, for 0; with no
    // such pass it pays per call, or is refused when the plan is pass-only. No plans: no lookup.
    const passId = input.passes ? coveringPass(sql, input.passes.planIds, now) : null;
    if (input.passes?.passOnly && passId === null) {
      refuse("pass_required");
      return { ok: false, code: "pass_required" };
    }
    const amount = passId === null ? input.amount : 0;
    const velocity = limitsOfKey(key);
    const limited = velocityRefusal(sql, key, now, amount);
    if (limited) {
      refuse(`velocity_${limited.over}`);
      return limited.refusal;
    }
    const mandate = key.mandate_id == null ? null : mandateRow(sql, String(key.mandate_id));
    const day = utcDay(now);
    const about = { agent_key_id: keyId, service_id: input.serviceId, request_id: input.requestId, amount };
    const onMandate = mandate ? { mandate_id: String(mandate.id), intent_hash: String(mandate.intent_hash) } : {};
    if (mandate) {
      const violation = checkMandate(limitsOf(mandate), { now, serviceSlug: input.serviceSlug ?? "", amount }, useOf(sql, mandate, day));
      if (violation) {
        journal.audit({ actor: `agent:${keyId}`, event: "hold", ...about, ...onMandate, outcome: "refused", reason: violation }, now);
        return { ok: false, code: violation, mandate_id: String(mandate.id), detail: `The key's mandate refuses this call (${violation}).` };
      }
    }
    // The hold's money in one statement: it moves only if the balance covers it (the CHECK on the
    // row would refuse an overdraft anyway), and says what is left.
    const held = sql.one(
      "UPDATE balance SET pending = pending + ?1 WHERE id = 1 AND credits - debits - pending >= ?1 RETURNING credits - debits - pending AS available",
      amount,
    );
    if (!held) {
      journal.audit({ actor: `agent:${keyId}`, event: "hold", ...about, ...onMandate, outcome: "refused", reason: "insufficient_funds" }, now);
      return { ok: false, code: "insufficient_funds", price: amount, available: journal.readBalance().available, currency: meta.currency };
    }
    const holdId = newId("hold");
    const tags = mergeTags(jsonOrNull<Tags>(mandate?.tags), input.tags ?? {});
    sql.exec(
      `INSERT INTO holds (id, request_id, agent_key_id, service_id, provider_id, fee_bps, amount, state, created_at, expires_at, rule, mandate_id, tags, pass_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)`,
      holdId,
      input.requestId,
      keyId,
      input.serviceId,
      input.providerId,
      input.feeBps,
      amount,
      now,
      now + input.ttlMs,
      input.deferredRule ? JSON.stringify(input.deferredRule) : null,
      mandate ? String(mandate.id) : null,
      Object.keys(tags).length > 0 ? JSON.stringify(tags) : null,
      passId,
    );
    if (passId !== null) drawCall(sql, passId);
    if (mandate) holdUnder(sql, String(mandate.id), day, amount);
    countCall(sql, keyId, velocity, now, amount);
    if (input.idempotency) rememberCall(sql, keyId, input.idempotency, holdId, input.requestId, now);
    // A key without a mandate is bounded only by the balance: the trail says so.
    const reason = passId !== null ? `pass ${passId}` : mandate ? null : "no_mandate";
    journal.audit({ actor: `agent:${keyId}`, event: "hold", ...about, ...onMandate, outcome: "accepted", reason }, now);
    const reserved = { ok: true as const, hold_id: holdId, agent_key_id: keyId, amount, available: Number(held.available), currency: meta.currency };
    return passId === null ? reserved : { ...reserved, pass_id: passId };
  });
}
