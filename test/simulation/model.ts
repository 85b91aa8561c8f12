/**
 * The reference model the AccountLedger simulation (ledger.sim.test.ts) runs against: a plain,
 * obviously-correct account with integer balances, a list of holds, a journal and the audit trail
 * it expects, and nothing else. Every transition returns what the real object must answer.
 *
 * The model knows nothing of storage, alarms or D1: those are checked against the real object's
 * own state (export cursors) and against the journal the model predicts.
 */
import type { HoldState } from "../../durable-objects/types";
import { refundFeePart } from "../../core/legs";
import { platformFee } from "../../core/pricing/fees";
import type {
  ModelKey,
  ModelHold,
  ModelTransfer,
  ModelDispute,
  RefundOutcome,
  DisputeOutcome,
  AuditExpect,
  AuditStep,
  CallKey,
  CreditOutcome,
  ReserveOutcome,
  CaptureOutcome,
  VoidOutcome,
  D1Fault,
} from "./model-types";

export const fingerprintOf = (amount: number, reference: string | null) => `fp:${amount}:${reference ?? ""}`;

export class LedgerModel {
  readonly accountId: string;
  credits = 0;
  debits = 0;
  pending = 0;
  keys: ModelKey[] = [];
  holds: ModelHold[] = [];
  journal: ModelTransfer[] = [];
  /** What each capture's refunds gave back so far, by the capture's journal index. */
  refunded = new Map<number, number>();
  disputes: ModelDispute[] = [];
  audit: AuditStep[] = [];
  /** Credit idempotency keys: the first answer, replayed to every repeat with the same body. */
  creditKeys = new Map<string, { fingerprint: string; first: unknown }>();
  /** Proxied-call idempotency keys, per agent key (`${keyIdx}:${key}`). */
  callKeys = new Map<string, CallKey>();
  /** The last credit sent, for a duplicate delivery of exactly the same message. */
  lastCredit: { amount: number; reference: string | null; idempotencyKey: string | null } | null = null;
  d1Fault: D1Fault | null = null;
  crashes = 0;
  alarms = 0;

  constructor(accountId: string) {
    this.accountId = accountId;
  }

  get posted(): number {
    return this.credits - this.debits;
  }
  get available(): number {
    return this.posted - this.pending;
  }
  get balance() {
    return { currency: "USD", posted: this.posted, pending: this.pending, available: this.available };
  }
  /** How many audit events the trail must hold. */
  get auditLength(): number {
    return this.audit.reduce((n, s) => n + ("unordered" in s ? s.unordered.length : 1), 0);
  }

  pushAudit(e: Partial<AuditExpect> & Pick<AuditExpect, "event" | "outcome">): void {
    this.audit.push({ amount: null, request_id: null, reason: null, ...e });
  }

  credit(amount: number, reference: string | null, idempotencyKey: string | null): CreditOutcome {
    const fingerprint = fingerprintOf(amount, reference);
    if (idempotencyKey) {
      const prior = this.creditKeys.get(idempotencyKey);
      if (prior) return prior.fingerprint === fingerprint ? { kind: "replay", first: prior.first } : { kind: "mismatch" };
    }
    this.credits += amount;
    this.journal.push({ id: null, kind: "credit", amount, fee: 0, holdId: null });
    this.pushAudit({ event: "credit", outcome: "ok", amount, reason: reference });
    return { kind: "new", amount };
  }

  /** Records the first answer to a credit with a key (what every repeat must get back). */
  rememberCredit(idempotencyKey: string, amount: number, reference: string | null, first: unknown): void {
    this.creditKeys.set(idempotencyKey, { fingerprint: fingerprintOf(amount, reference), first });
  }

  /** Expected outcome of a reserve; on `ok` the caller adds the hold with `addHold`. */
  reserve(keyIdx: number, amount: number, requestId: string, idem: { key: string; fingerprint: string } | null): ReserveOutcome {
    const key = this.keys[keyIdx];
    if (!key || key.revoked) return { kind: "invalid_key" };
    if (idem) {
      const ck = `${keyIdx}:${idem.key}`;
      const prior = this.callKeys.get(ck);
      if (prior) {
        const hold = this.holds[prior.holdIdx] as ModelHold;
        if (prior.fingerprint !== idem.fingerprint) return { kind: "idempotency_mismatch" };
        if (prior.response) return { kind: "idempotency_replay", response: prior.response };
        // A hold that ended with no response kept frees its key; a pending one is still running.
        if (hold.state !== "pending") this.callKeys.delete(ck);
        else return { kind: "idempotency_in_flight" };
      }
    }
    if (amount > this.available) {
      this.pushAudit({ event: "hold", outcome: "refused", amount, request_id: requestId, reason: "insufficient_funds" });
      return { kind: "insufficient_funds", available: this.available };
    }
    return { kind: "ok", available: this.available - amount };
  }

  addHold(h: Omit<ModelHold, "state" | "captured" | "reason">, idem: { key: string; fingerprint: string } | null, audit = true): ModelHold {
    const hold: ModelHold = { ...h, state: "pending", captured: null, reason: null };
    this.holds.push(hold);
    this.pending += h.amount;
    if (idem) this.callKeys.set(`${h.keyIdx}:${idem.key}`, { fingerprint: idem.fingerprint, holdIdx: this.holds.length - 1, response: null });
    if (audit) this.pushAudit({ event: "hold", outcome: "accepted", amount: h.amount, request_id: h.requestId, reason: "no_mandate" });
    return hold;
  }

  capture(hold: ModelHold | undefined, amount: number): CaptureOutcome {
    if (!hold) return { kind: "unknown_hold" };
    if (hold.state === "expired" && Number.isSafeInteger(amount) && amount > 0 && !hold.uncollected) {
      hold.uncollected = true;
      this.pushAudit({ event: "uncollected", outcome: "refused", amount, request_id: hold.requestId, reason: "hold_expired" });
    }
    if (hold.state !== "pending") return { kind: "hold_not_pending", state: hold.state };
    if (amount > hold.amount) return { kind: "amount_exceeds_hold" };
    this.end(hold, "captured", amount, "origin_succeeded");
    const fee = platformFee(amount, hold.feeBps);
    if (amount > 0) this.journal.push({ id: null, kind: "capture", amount, fee, holdId: hold.id });
    return { kind: "ok", transfer: amount > 0, fee };
  }

  void(hold: ModelHold | undefined, reason: string): VoidOutcome {
    if (!hold) return { kind: "unknown_hold" };
    if (hold.state !== "pending") return { kind: "hold_not_pending", state: hold.state };
    this.end(hold, "voided", null, reason);
    return { kind: "ok" };
  }

  /** What one alarm run does to holds: every overdue pending hold expires, in any order. */
  expireOverdue(): ModelHold[] {
    const due = this.holds.filter((h) => h.tiny && h.state === "pending");
    const events: AuditExpect[] = [];
    for (const h of due) this.end(h, "expired", null, "hold_timeout", events);
    if (events.length > 0) this.audit.push({ unordered: events });
    return due;
  }

  private end(hold: ModelHold, state: Exclude<HoldState, "pending">, captured: number | null, reason: string, into?: AuditExpect[]): void {
    hold.state = state;
    hold.captured = captured;
    hold.reason = reason;
    this.pending -= hold.amount;
    this.debits += captured ?? 0;
    const event = {
      event: state === "captured" ? "capture" : state === "voided" ? "void" : "expiry",
      outcome: state,
      amount: captured ?? hold.amount,
      request_id: hold.requestId,
      reason,
    };
    if (into) into.push(event);
    else this.audit.push(event);
  }

  /** The request a capture charged for (its hold's), which its refunds and disputes name too. */
  requestOf(captureIdx: number): string | null {
    const holdId = this.journal[captureIdx]?.holdId;
    return this.holds.find((h) => h.id === holdId)?.requestId ?? null;
  }

  /** A refund of the capture at `captureIdx`; `amount` null: all that is refundable (I5). */
  refund(captureIdx: number, amount: number | null): RefundOutcome {
    const capture = this.journal[captureIdx] as ModelTransfer;
    const claimed = this.disputes.find((d) => d.captureIdx === captureIdx && d.status === "open")?.amount ?? 0;
    const refundable = capture.amount - (this.refunded.get(captureIdx) ?? 0) - claimed;
    const amt = amount ?? refundable;
    if (amt === 0 || amt > refundable) return { kind: "refund_exceeds_charge", refundable };
    return { kind: "ok", fee: this.appendRefund(captureIdx, amt, "refund") };
  }

  private appendRefund(captureIdx: number, amount: number, why: string): number {
    const capture = this.journal[captureIdx] as ModelTransfer;
    const before = this.refunded.get(captureIdx) ?? 0;
    const fee = refundFeePart(capture, before, amount);
    this.refunded.set(captureIdx, before + amount);
    this.debits -= amount;
    this.journal.push({ id: null, kind: "refund", amount, fee, holdId: null });
    this.pushAudit({ event: "refund", outcome: "ok", amount, request_id: this.requestOf(captureIdx), reason: `${capture.id}: ${why}` });
    return fee;
  }

  /** What opening a dispute of the capture must answer; on `ok` the caller adds it with `addDispute`. */
  openDispute(captureIdx: number, reason: string, limit: number): DisputeOutcome {
    if (this.disputes.some((d) => d.captureIdx === captureIdx)) return { kind: "dispute_exists" };
    const amount = (this.journal[captureIdx] as ModelTransfer).amount - (this.refunded.get(captureIdx) ?? 0);
    if (amount <= 0) return { kind: "nothing_to_dispute" };
    return { kind: "ok", amount, compensated: reason === "unauthorized" ? Math.min(amount, limit) : 0 };
  }

  addDispute(d: Omit<ModelDispute, "status">): void {
    this.disputes.push({ ...d, status: "open" });
    const capture = this.journal[d.captureIdx] as ModelTransfer;
    const request_id = this.requestOf(d.captureIdx);
    this.pushAudit({ event: "dispute_opened", outcome: "ok", amount: d.amount, request_id, reason: `${d.id} on ${capture.id}: ${d.reason}` });
    if (d.compensated > 0) {
      this.credits += d.compensated;
      this.journal.push({ id: null, kind: "compensation", amount: d.compensated, fee: 0, holdId: null });
      this.pushAudit({
        event: "compensation",
        outcome: "ok",
        amount: d.compensated,
        request_id,
        reason: `${d.id}: credited at once from the compensation account`,
      });
    }
  }

  /** The operator's decision: the payer wins (refund, then repayment) or the provider (nothing moves). Null: already final. */
  decide(d: ModelDispute, winner: "payer" | "provider"): "done" | "dispute_closed" {
    if (d.status !== "open") return "dispute_closed";
    const request_id = this.requestOf(d.captureIdx);
    if (winner === "provider") {
      d.status = "won_by_provider";
      this.pushAudit({ event: "dispute_resolved", outcome: "ok", amount: 0, request_id, reason: `${d.id}: won_by_provider` });
      return "done";
    }
    this.appendRefund(d.captureIdx, d.amount, `dispute ${d.id}: ${d.reason}`);
    if (d.compensated > 0) {
      this.credits -= d.compensated;
      this.journal.push({ id: null, kind: "repayment", amount: d.compensated, fee: 0, holdId: null });
      this.pushAudit({
        event: "compensation_repaid",
        outcome: "ok",
        amount: d.compensated,
        request_id,
        reason: `${d.id}: the provider's refund repays the compensation`,
      });
    }
    d.status = "won_by_payer";
    this.pushAudit({ event: "dispute_resolved", outcome: "ok", amount: d.amount, request_id, reason: `${d.id}: won_by_payer` });
    return "done";
  }

  revoke(keyIdx: number): boolean {
    const key = this.keys[keyIdx];
    if (!key || key.revoked) return false;
    key.revoked = true;
    this.pushAudit({ event: "key_revoked", outcome: "ok" });
    return true;
  }

  /** I2 in the model's own terms (a sanity check of the model itself). */
  assertSane(): void {
    if (this.debits + this.pending > this.credits || this.pending < 0 || this.debits < 0) {
      throw new Error(`model broke I2: credits ${this.credits}, debits ${this.debits}, pending ${this.pending}`);
    }
    const pending = this.holds.filter((h) => h.state === "pending").reduce((s, h) => s + h.amount, 0);
    if (pending !== this.pending) throw new Error(`model pending ${this.pending} ≠ sum of pending holds ${pending}`);
  }
}
