import { newId } from "../core/ids";
import { platformFee } from "../core/pricing/fees";
import type { Tags } from "../core/tags";
import type { LiveKeys } from "./admin";
import { priorAnswer, rememberAnswer } from "./idempotency";
import { isAmount, type Journal } from "./journal";
import { checkMandate, utcDay } from "./mandate-check";
import { limitsOf, mandateRow, spendUnder, useOf } from "./mandates";
import { spendBlocked } from "./spend-gate";
import { countCall, limitsOfKey, velocityRefusal } from "./velocity";
import { exportDue, type Outbox } from "./outbox";
import type { BuyPassInput, BuyPassResult, CancelPassInput, CancelPassResult, ChargeRefusal, Pass } from "./pass-types";
import { iso, isoOrNull, jsonOrNull, type Row, type Sql, textOrNull } from "./sql";
import type { Turns } from "./turns";
import type { Actor, Transfer } from "./types";

/**
 * Passes: an account's prepaid access to a service's plan — a time window, a call bundle, or both.
 *
 * Buying one takes the plan's price like a charge (a `capture` with no hold, reason
 * `pass_purchase`, `reference` the pass): the key's mandate applies as to a call, and the
 * provider earns it like one. While a pass is active, the reserve draws one of its calls in its
 * own transaction (drawCall; no extra round trip) and the call is held for 0; a call that fails
 * gives it back (giveCallBack). The CHECK on `calls_left` keeps a pass from serving more calls
 * than it holds, whatever races (I16).
 *
 * A time pass with `auto_renew` renews at its end, by the account's alarm (renewDue), only
 * inside what authorized the purchase: the key live and not frozen, its mandate still valid,
 * allowing the service and the price, the balance covering it. Otherwise it lapses, and the
 * audit trail names the limit that stopped it. A renewal moves `period` by one in a guarded
 * update, so an alarm delivered twice renews once.
 */
export class Passes {
  constructor(
    private readonly journal: Journal,
    private readonly turns: Turns,
    private readonly outbox: Outbox,
    private readonly keys: LiveKeys,
  ) {}

  private get sql(): Sql {
    return this.journal.sql;
  }

  async buy(input: BuyPassInput): Promise<BuyPassResult> {
    await this.turns.inTurn();
    const result = this.journal.txn((): BuyPassResult => {
      const meta = this.journal.meta();
      // An agent key naming an account that does not exist is just a wrong key.
      if (!meta) return { ok: false, code: input.keyHash === null ? "not_found" : "invalid_key" };
      const { plan } = input;
      if (!isAmount(plan.price) || plan.price === 0) return { ok: false, code: "invalid_amount" };
      if (input.autoRenew && plan.duration_s === null) return { ok: false, code: "renewal_needs_duration" };
      const key = input.keyHash === null ? null : this.keys.get(input.keyHash);
      if (input.keyHash !== null && !key) return { ok: false, code: "invalid_key" };
      const blocked = spendBlocked(meta, key, input.currency);
      if (blocked) return blocked;
      // An agent buys as itself (the Worker knows its key, not the key's id); its keys are its own.
      const actor: Actor = key ? `agent:${String(key.id)}` : input.actor;
      const idem = input.idempotencyKey ? `pass:${actor}:${input.idempotencyKey}` : null;
      const prior = priorAnswer<Extract<BuyPassResult, { ok: true }>>(this.sql, idem, input.fingerprint);
      if (prior) return prior;
      const now = Date.now();
      const id = newId("pass");
      const agentKeyId = key ? String(key.id) : null;
      const mandate = key?.mandate_id == null ? null : mandateRow(this.sql, String(key.mandate_id));
      const terms = { price: plan.price, feeBps: input.feeBps, serviceId: input.serviceId, serviceSlug: input.serviceSlug, providerId: input.providerId };
      // A purchase is one of the key's paid acts: its per-minute limits bound it like a call.
      const limited = key ? velocityRefusal(this.sql, key, now, plan.price) : null;
      if (limited) return limited.refusal;
      const paid = this.charge(id, terms, agentKeyId, mandate, "pass_purchase", actor, now);
      if (!paid.ok) return paid;
      if (key) countCall(this.sql, String(key.id), limitsOfKey(key), now, plan.price);
      this.sql.exec(
        `INSERT INTO passes (id, plan_id, plan_name, service_id, service_slug, provider_id, fee_bps, price, duration_ms, calls, calls_left, status,
           starts_at, expires_at, auto_renew, agent_key_id, mandate_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)`,
        id,
        plan.id,
        plan.name,
        input.serviceId,
        input.serviceSlug,
        input.providerId,
        input.feeBps,
        plan.price,
        plan.duration_s === null ? null : plan.duration_s * 1000,
        plan.calls,
        plan.calls,
        now,
        plan.duration_s === null ? null : now + plan.duration_s * 1000,
        input.autoRenew ? 1 : 0,
        agentKeyId,
        mandate ? String(mandate.id) : null,
        now,
      );
      const response = { ok: true as const, replayed: false, pass: this.read(id) as Pass, transfer: paid.transfer, balance: this.journal.readBalance() };
      rememberAnswer(this.sql, idem, input.fingerprint, response, now);
      return response;
    });
    if (result.ok && !result.replayed) {
      await this.outbox.scheduleAlarm(exportDue());
      if (result.pass.expires_at) await this.outbox.scheduleAlarm(Date.parse(result.pass.expires_at));
    }
    return result;
  }

  /** Stops renewal; the pass runs to its end. Cancelling twice changes nothing more. */
  async cancel(input: CancelPassInput): Promise<CancelPassResult> {
    await this.turns.inTurn();
    const result = this.journal.txn((): CancelPassResult => {
      const agent = input.agentKeyHash === null ? null : this.journal.meta() && this.keys.get(input.agentKeyHash);
      if (input.agentKeyHash !== null && !agent) return { ok: false, code: "invalid_key" };
      const pass = this.journal.meta() ? this.read(input.passId) : null;
      // An agent sees only the passes its own key bought; another key's reads as absent.
      const agentKeyId = agent ? String(agent.id) : null;
      if (!pass || (agentKeyId !== null && pass.agent_key_id !== agentKeyId)) return { ok: false, code: "not_found" };
      if (pass.auto_renew) {
        this.sql.exec("UPDATE passes SET auto_renew = 0 WHERE id = ?", pass.id);
        const actor: Actor = agentKeyId !== null ? `agent:${agentKeyId}` : input.actor;
        this.journal.audit({ actor, event: "pass_cancelled", service_id: pass.service_id, outcome: "ok", reason: pass.id }, Date.now());
      }
      return { ok: true, pass: this.read(pass.id) as Pass };
    });
    await this.outbox.exportAudit();
    return result;
  }

  /** The account's passes, newest first; null when the account's ledger was never opened. */
  list(limit: number, before: string | null): { data: Pass[]; next_cursor: string | null } | null {
    if (!this.journal.meta()) return null;
    const rows = this.sql.all(
      `SELECT * FROM passes WHERE (?1 IS NULL OR (created_at, id) < (SELECT created_at, id FROM passes WHERE id = ?1)) ORDER BY created_at DESC, id DESC LIMIT ?2`,
      before,
      limit + 1,
    );
    const data = rows.slice(0, limit).map((r) => toPass(r, Date.now()));
    return { data, next_cursor: rows.length > limit ? (data.at(-1)?.id ?? null) : null };
  }

  read(id: string): Pass | null {
    const row = this.sql.one("SELECT * FROM passes WHERE id = ?", id);
    return row ? toPass(row, Date.now()) : null;
  }

  /** The alarm's part: each active time pass past its end renews (inside its authorization) or ends. */
  renewDue(now: number): void {
    for (const row of this.sql.all("SELECT * FROM passes WHERE status IN ('active', 'used_up') AND expires_at <= ? ORDER BY expires_at", now)) {
      this.journal.txn(() => this.renewOrEnd(row, now));
    }
  }

  /** When the next time pass ends (for the alarm), or null. */
  nextDue(): number | null {
    const row = this.sql.one("SELECT MIN(expires_at) AS at FROM passes WHERE status IN ('active', 'used_up') AND expires_at IS NOT NULL");
    return row?.at == null ? null : Number(row.at);
  }

  private renewOrEnd(row: Row, now: number): void {
    const id = String(row.id);
    const about = { service_id: String(row.service_id), agent_key_id: textOrNull(row.agent_key_id), mandate_id: textOrNull(row.mandate_id) };
    if (Number(row.auto_renew) !== 1) {
      this.sql.exec("UPDATE passes SET status = 'expired' WHERE id = ? AND period = ?", id, Number(row.period));
      this.journal.audit({ actor: "system", event: "pass_expired", ...about, outcome: "ok", reason: id }, now);
      return;
    }
    const stop = this.renewalRefusal(row);
    const terms = {
      price: Number(row.price),
      feeBps: Number(row.fee_bps),
      serviceId: String(row.service_id),
      serviceSlug: String(row.service_slug),
      providerId: String(row.provider_id),
    };
    const mandate = row.mandate_id == null ? null : mandateRow(this.sql, String(row.mandate_id));
    const paid = stop ? null : this.charge(id, terms, about.agent_key_id, mandate, "pass_renewal", "system", now);
    const why = stop ?? (paid && !paid.ok ? paid.code : null);
    if (why !== null) {
      this.sql.exec("UPDATE passes SET status = 'lapsed', lapse_reason = ? WHERE id = ? AND period = ?", why, id, Number(row.period));
      this.journal.audit({ actor: "system", event: "pass_lapsed", ...about, amount: terms.price, outcome: "refused", reason: `${id}: ${why}` }, now);
      return;
    }
    // The next period starts where the last one ended, so a late alarm does not shorten it.
    const renewed = this.sql.one(
      `UPDATE passes SET period = period + 1, status = 'active', starts_at = expires_at, expires_at = expires_at + duration_ms, calls_left = calls
       WHERE id = ? AND period = ? RETURNING period`,
      id,
      Number(row.period),
    );
    // rowsWritten would count index entries too; the returned row says the guard held.
    if (!renewed) throw new Error(`pass ${id} renewed twice`);
    this.journal.audit({ actor: "system", event: "pass_renewed", ...about, amount: terms.price, outcome: "ok", reason: id }, now);
  }

  /** What stops a renewal before its money is looked at: the account or key frozen, the key revoked. */
  private renewalRefusal(row: Row): string | null {
    if (this.journal.meta()?.frozen) return "account_frozen";
    if (row.agent_key_id == null) return null;
    const key = this.sql.one("SELECT revoked_at, frozen_at FROM agent_keys WHERE id = ?", row.agent_key_id);
    if (!key || key.revoked_at != null) return "key_revoked";
    return key.frozen_at != null ? "key_frozen" : null;
  }

  /**
   * Takes a pass's price as a charge of its service, inside the mandate (as a call of that price
   * would be) and the balance; the caller's transaction makes it land with the pass's change.
   */
  private charge(
    passId: string,
    t: { price: number; feeBps: number; serviceId: string; serviceSlug: string; providerId: string },
    agentKeyId: string | null,
    mandate: Row | null,
    reason: "pass_purchase" | "pass_renewal",
    actor: Actor,
    now: number,
  ): { ok: true; transfer: Transfer } | ChargeRefusal {
    const meta = this.journal.meta();
    const day = utcDay(now);
    const about = { agent_key_id: agentKeyId, service_id: t.serviceId, amount: t.price };
    if (mandate) {
      const violation = checkMandate(limitsOf(mandate), { now, serviceSlug: t.serviceSlug, amount: t.price }, useOf(this.sql, mandate, day));
      if (violation) {
        this.journal.audit({ actor, event: reason, ...about, mandate_id: String(mandate.id), outcome: "refused", reason: violation }, now);
        return { ok: false, code: violation, mandate_id: String(mandate.id), detail: `The key's mandate refuses this pass (${violation}).` };
      }
    }
    const paid = this.sql.one("UPDATE balance SET debits = debits + ?1 WHERE id = 1 AND credits - debits - pending >= ?1 RETURNING 1 AS ok", t.price);
    if (!paid) {
      this.journal.audit({ actor, event: reason, ...about, outcome: "refused", reason: "insufficient_funds" }, now);
      return { ok: false, code: "insufficient_funds", price: t.price, available: this.journal.readBalance().available, currency: meta?.currency ?? "" };
    }
    const mandateId = mandate ? String(mandate.id) : null;
    const call = {
      request_id: null,
      service_id: t.serviceId,
      provider_id: t.providerId,
      agent_key_id: agentKeyId,
      mandate_id: mandateId,
      tags: jsonOrNull<Tags>(mandate?.tags),
    };
    const transfer = this.journal.appendTransfer({
      kind: "capture",
      amount: t.price,
      fee: platformFee(t.price, t.feeBps),
      reference: passId,
      detail: { reason },
      call,
      now,
    });
    if (mandateId) spendUnder(this.sql, mandateId, day, t.price);
    this.journal.audit({ actor, event: reason, ...about, mandate_id: mandateId, outcome: "ok", reason: passId }, now);
    return { ok: true, transfer };
  }
}

function toPass(r: Row, now: number): Pass {
  const expiresAt = r.expires_at == null ? null : Number(r.expires_at);
  // Between its end and the alarm that renews or ends it, a pass already covers nothing.
  const status = r.status === "active" && expiresAt !== null && expiresAt <= now ? "expired" : (String(r.status) as Pass["status"]);
  return {
    id: String(r.id),
    plan_id: String(r.plan_id),
    plan_name: String(r.plan_name),
    service_id: String(r.service_id),
    provider_id: String(r.provider_id),
    price: Number(r.price),
    status,
    starts_at: iso(r.starts_at),
    expires_at: isoOrNull(r.expires_at),
    calls: r.calls == null ? null : Number(r.calls),
    calls_left: r.calls_left == null ? null : Number(r.calls_left),
    auto_renew: Number(r.auto_renew) === 1,
    period: Number(r.period),
    lapse_reason: textOrNull(r.lapse_reason),
    agent_key_id: textOrNull(r.agent_key_id),
    created_at: iso(r.created_at),
  };
}
