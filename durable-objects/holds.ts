import { platformFee } from "../core/pricing/fees";
import { type PriceRule, settlement } from "../core/pricing/rules";
import type { LiveKeys } from "./admin";
import { endCall } from "./call-keys";
import { isAmount, type Journal } from "./journal";
import { utcDay } from "./mandate-check";
import { mandateRow, settleUnder } from "./mandates";
import { exportDue, type Outbox } from "./outbox";
import { giveCallBack } from "./pass-calls";
import { appendRefund } from "./refunds";
import { reserveNow } from "./reserve";
import { toHold } from "./rows";
import type { Turns } from "./turns";
import type {
  Actor,
  AutoRefund,
  CaptureDetail,
  CaptureInput,
  CaptureResult,
  ExtendResult,
  Hold,
  ReleaseInput,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  Settlement,
  SettlementOutcome,
  StoredResponse,
  UsageReport,
  UsageReportResult,
} from "./types";

/** A capture inside a transaction; callers that answer with the balance read it after. */
type Captured = Exclude<CaptureResult, { ok: true }> | Omit<Extract<CaptureResult, { ok: true }>, "balance">;

/**
 * A call's money from hold to end: reserve, capture (alone or in the Worker's settle batches),
 * release, expiry, extension and the provider's usage report. Each is one `transactionSync`
 * with no `await` inside; the only awaits are the turn before and the alarm after.
 */
export class Holds {
  constructor(
    private readonly journal: Journal,
    private readonly outbox: Outbox,
    private readonly turns: Turns,
    private readonly keys: LiveKeys,
  ) {}

  private get sql() {
    return this.journal.sql;
  }

  /** `onTurn`: called when the reserve's turn comes, just before its transaction (a hot account's claim, shard-leases.ts). */
  async reserve(input: ReserveInput, onTurn?: () => void): Promise<ReserveResult> {
    await this.turns.gathered();
    onTurn?.();
    return this.reserveNow(input);
  }

  /**
   * Captures the Worker queued for this account, then a reserve: one request and one commit
   * where there would be two of each. The captures go first, so what they release is available
   * to the reserve.
   */
  async settleThenReserve(
    settlements: readonly Settlement[],
    input: ReserveInput,
    onTurn?: () => void,
  ): Promise<{ settled: SettlementOutcome[]; reserved: ReserveResult }> {
    await this.turns.gathered();
    onTurn?.();
    const settled = this.settleEach(settlements);
    const reserved = await this.reserveNow(input);
    if (settled.some((s) => s.ok)) await this.outbox.scheduleAlarm(exportDue());
    await this.outbox.exportAudit();
    return { settled, reserved };
  }

  /** Captures the Worker queued for this account, sent on their own (no reserve came to carry them). */
  async settle(settlements: readonly Settlement[]): Promise<SettlementOutcome[]> {
    await this.turns.inTurn();
    const settled = this.settleEach(settlements);
    if (settled.some((s) => s.ok)) await this.outbox.scheduleAlarm(exportDue());
    await this.outbox.exportAudit();
    return settled;
  }

  /** Settles a pending hold for `amount` ≤ the hold; the rest is released (I4). */
  async capture({ holdId, amount, detail = {}, refund }: CaptureInput): Promise<CaptureResult> {
    await this.turns.inTurn();
    const result = this.journal.txn((): CaptureResult => {
      const captured = this.captureNow(holdId, amount, detail, undefined, refund);
      return captured.ok ? { ...captured, balance: this.journal.readBalance() } : captured;
    });
    if (result.ok && result.transfer) await this.outbox.scheduleAlarm(exportDue());
    await this.outbox.exportAudit();
    return result;
  }

  /** Releases a pending hold without charge (the origin failed, or the call never happened); it ends `voided`. */
  async release({ holdId, reason }: ReleaseInput): Promise<ReleaseResult> {
    await this.turns.inTurn();
    const result = this.journal.txn((): ReleaseResult => {
      const hold = this.journal.readHold(holdId);
      if (!hold) return { ok: false, code: "unknown_hold" };
      if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
      const ended = this.endHold(hold, "voided", reason, Date.now(), `agent:${hold.agent_key_id}`);
      return { ok: true, hold: ended, balance: this.journal.readBalance() };
    });
    await this.outbox.exportAudit();
    return result;
  }

  /**
   * The provider's report of what a deferred call used (`POST /v1/usage`): priced by the rule
   * kept on the hold, captured up to the hold. Only the service's provider may report.
   */
  async reportUsage({ requestId, units, actor }: UsageReport): Promise<UsageReportResult> {
    await this.turns.inTurn();
    const providerId = actor.slice("provider:".length);
    const result = this.journal.txn((): UsageReportResult => {
      const row = this.journal.isOpened() ? this.sql.one("SELECT * FROM holds WHERE request_id = ?", requestId) : null;
      if (!row || row.provider_id !== providerId) return { ok: false, code: "unknown_request" };
      if (row.rule == null) return { ok: false, code: "not_deferred" };
      const hold = toHold(row);
      if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
      const { amount, shortfall } = settlement(JSON.parse(String(row.rule)) as PriceRule, { units }, hold.amount);
      const detail = { usage: { units }, shortfall, reason: "usage_reported" };
      const captured = this.captureNow(hold.id, amount, detail, actor);
      if (!captured.ok) throw new Error(`capture of a pending hold failed: ${captured.code}`);
      return { ok: true, hold: captured.hold, transfer: captured.transfer };
    });
    if (result.ok && result.transfer) await this.outbox.scheduleAlarm(exportDue());
    return result;
  }

  /**
   * Keeps a pending hold alive for `ttlMs` more from now (never shortens it): the Worker calls
   * this while a long response streams, so the hold outlives the response it pays for (I10 then
   * bounds a hold by its last extension: a Worker that dies stops extending it).
   */
  async extendHold(holdId: string, ttlMs: number): Promise<ExtendResult> {
    await this.turns.inTurn();
    if (!this.journal.isOpened()) return { ok: false, code: "unknown_hold" };
    const until = Date.now() + Math.max(0, Math.floor(ttlMs));
    const row = this.sql.one("UPDATE holds SET expires_at = MAX(expires_at, ?) WHERE id = ? AND state = 'pending' RETURNING expires_at", until, holdId);
    if (row) return { ok: true, expires_at: new Date(Number(row.expires_at)).toISOString() };
    const hold = this.journal.readHold(holdId);
    return hold ? { ok: false, code: "hold_not_pending", state: hold.state } : { ok: false, code: "unknown_hold" };
  }

  /**
   * Ends an idempotent call's key without a capture (a deferred call, settled later by the
   * provider's report): its response to replay, or null to free the key.
   */
  async keepResponse(holdId: string, response: StoredResponse | null): Promise<void> {
    await this.turns.inTurn();
    if (this.journal.isOpened()) this.journal.txn(() => endCall(this.sql, holdId, response));
  }

  /** The alarm's part: every overdue pending hold ends `expired` (I10). */
  expire(now: number): void {
    this.journal.txn(() => {
      for (const row of this.sql.all("SELECT * FROM holds WHERE state = 'pending' AND expires_at <= ?", now)) {
        this.endHold(toHold(row), "expired", "hold_timeout", now, "system");
      }
    });
  }

  private async reserveNow(input: ReserveInput): Promise<ReserveResult> {
    const now = Date.now();
    const result = reserveNow(this.journal, this.keys, input, now);
    if (result.ok) await this.outbox.scheduleAlarm(now + input.ttlMs);
    else await this.outbox.exportAudit(); // a refusal is on the trail, and the trail goes to D1 too
    return result;
  }

  /** Each capture in its own transaction: one that is refused does not undo the others. */
  private settleEach(settlements: readonly Settlement[]): SettlementOutcome[] {
    return settlements.map(({ holdId, amount, detail, keep, refund }): SettlementOutcome => {
      const result = this.journal.txn(() => {
        const captured = this.captureNow(holdId, amount, detail, undefined, refund);
        // The key's final state lands with the capture: never captured yet unreplayable (stuck).
        if (captured.ok && keep !== undefined) endCall(this.sql, holdId, keep);
        return captured;
      });
      if (result.ok || (result.code === "hold_not_pending" && result.state === "captured")) return { hold_id: holdId, ok: true };
      return { hold_id: holdId, ok: false, code: result.code };
    });
  }

  /**
   * `refund`: the capture is refunded in full in this same transaction (an SLA breach, decided by
   * the Worker): never a charge without its refund, and the refund bounded by the capture (I5),
   * which nothing else can have refunded yet. A resent capture finds its hold captured and adds nothing.
   */
  private captureNow(holdId: string, amount: number, detail: CaptureDetail, actor?: Actor, refund?: AutoRefund): Captured {
    const now = Date.now();
    const reason = detail.reason ?? "origin_succeeded";
    // One statement on the common path: the hold ends here only if it is pending and covers the
    // amount; otherwise nothing changed and the hold says why.
    const row = isAmount(amount)
      ? this.sql.one(
          "UPDATE holds SET state = 'captured', captured = ?1, reason = ?2, resolved_at = ?3 WHERE id = ?4 AND state = 'pending' AND amount >= ?1 RETURNING *",
          amount,
          reason,
          now,
          holdId,
        )
      : null;
    if (!row) {
      const why = this.whyNotCaptured(holdId, amount);
      if (why.code === "hold_not_pending" && why.state === "expired") this.noteUncollected(holdId, amount, now);
      return why;
    }
    const hold = toHold(row);
    this.afterEnd(hold, "captured", amount, reason, now, actor ?? `agent:${hold.agent_key_id}`);
    const transfer =
      amount > 0
        ? this.journal.appendTransfer({ kind: "capture", amount, fee: platformFee(amount, hold.fee_bps), hold, now, detail: { ...detail, reason } })
        : null;
    if (refund === undefined || transfer === null) return { ok: true, hold, transfer };
    const refunded = appendRefund(this.journal, transfer, amount, { actor: "system", reason: refund, now });
    return { ok: true, hold, transfer, refund: refunded };
  }

  /**
   * A capture that came after its hold expired charges nothing (the hold ended once, I4), but it
   * is not silent: the hold records what it would have charged, once however often the capture
   * is resent, and the audit trail (exported to D1) tells the provider which call went unpaid.
   */
  private noteUncollected(holdId: string, amount: number, now: number): void {
    if (!isAmount(amount) || amount === 0) return;
    const row = this.sql.one("UPDATE holds SET uncollected = ? WHERE id = ? AND uncollected IS NULL RETURNING *", amount, holdId);
    if (!row) return;
    const hold = toHold(row);
    const about = { agent_key_id: hold.agent_key_id, mandate_id: hold.mandate_id, service_id: hold.service_id, request_id: hold.request_id };
    this.journal.audit({ actor: "system", event: "uncollected", ...about, amount, outcome: "refused", reason: "hold_expired" }, now);
  }

  private whyNotCaptured(holdId: string, amount: number): Exclude<CaptureResult, { ok: true }> {
    const hold = this.journal.readHold(holdId);
    if (!hold) return { ok: false, code: "unknown_hold" };
    if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
    if (!isAmount(amount)) return { ok: false, code: "invalid_amount" };
    return { ok: false, code: "amount_exceeds_hold" };
  }

  /**
   * The one way out of `pending` (I4): a guarded UPDATE that can succeed once per hold (capture's
   * is its own, with the amount in the guard), with the balance, the mandate's counters and the
   * audit trail moved in the same transaction (afterEnd).
   */
  private endHold(hold: Hold, state: "voided" | "expired", reason: string, now: number, actor: Actor): Hold {
    const ended = this.sql.exec("UPDATE holds SET state = ?, reason = ?, resolved_at = ? WHERE id = ? AND state = 'pending'", state, reason, now, hold.id);
    if (ended.rowsWritten !== 1) throw new Error(`hold ${hold.id} is no longer pending`);
    const after = { ...hold, state, captured: null, reason, resolved_at: new Date(now).toISOString() };
    // A call that never completed does not use up its pass.
    if (hold.pass_id) giveCallBack(this.sql, hold.pass_id);
    this.afterEnd(after, state, null, reason, now, actor);
    return after;
  }

  private afterEnd(hold: Hold, state: Exclude<Hold["state"], "pending">, captured: number | null, reason: string, now: number, actor: Actor): void {
    this.sql.exec("UPDATE balance SET pending = pending - ?, debits = debits + ? WHERE id = 1", hold.amount, captured ?? 0);
    if (hold.mandate_id) settleUnder(this.sql, hold.mandate_id, utcDay(Date.parse(hold.created_at)), hold.amount, captured ?? 0);
    const intent = hold.mandate_id ? mandateRow(this.sql, hold.mandate_id)?.intent_hash : null;
    const about = {
      agent_key_id: hold.agent_key_id,
      mandate_id: hold.mandate_id,
      intent_hash: intent == null ? null : String(intent),
      service_id: hold.service_id,
      request_id: hold.request_id,
    };
    const event = state === "captured" ? "capture" : state === "voided" ? "void" : "expiry";
    this.journal.audit({ actor, event, ...about, amount: captured ?? hold.amount, outcome: state, reason }, now);
  }
}
