import { newId } from "../core/ids";
import type { Dispute, DisputeStepResult, OpenDisputeInput, OpenDisputeResult, RespondDisputeInput, ResolveDisputeInput } from "./dispute-types";
import type { Journal } from "./journal";
import type { Outbox } from "./outbox";
import { appendRefund, refundedOf } from "./refunds";
import { toTransfer } from "./rows";
import { iso, isoOrNull, type Row, textOrNull } from "./sql";
import type { Turns } from "./turns";
import type { Actor, Transfer } from "./types";

/**
 * Disputes: the payer's owner contests a charge. Everything a dispute moves is a journal transfer
 * of this account, written in one transaction with the dispute's change and an audit event:
 *
 * - opened as `unauthorized` (an agent spent beyond its authority, a leaked key): the platform's
 *   compensation account credits the payer at once (`compensation`, up to the limit), before
 *   anyone argues; other reasons move nothing until the outcome;
 * - accepted by the provider, or won by the payer: the charge is refunded from the provider's
 *   earnings (a `refund` naming the dispute) and the compensation, if any, goes back to the
 *   compensation account (`repayment`), so the payer ends with the disputed amount once;
 * - won by the provider: nothing moves (a compensation stays the platform's loss).
 *
 * A dispute leaves `open` exactly once (I14): each step checks it is open inside its transaction,
 * and the storage's trigger refuses to change a dispute that is no longer open. While it is open,
 * what it claims cannot be refunded besides (refunds.ts), so refunds plus the dispute stay within
 * the charge (I5).
 */
export class Disputes {
  constructor(
    private readonly journal: Journal,
    private readonly turns: Turns,
    private readonly outbox: Outbox,
  ) {}

  async open(input: OpenDisputeInput): Promise<OpenDisputeResult> {
    await this.turns.inTurn();
    const sql = this.journal.sql;
    const result = this.journal.txn((): OpenDisputeResult => {
      const meta = this.journal.meta();
      const row = meta ? sql.one("SELECT * FROM transfers WHERE id = ?", input.transferId) : null;
      if (!meta || row?.kind !== "capture") return { ok: false, code: "not_found" };
      const prior = sql.one("SELECT id FROM disputes WHERE transfer_id = ?", input.transferId);
      if (prior) return { ok: false, code: "dispute_exists", dispute_id: String(prior.id) };
      const charge = toTransfer(row, meta.currency);
      const now = Date.now();
      if (now - Date.parse(charge.created_at) > input.windowMs) return { ok: false, code: "dispute_window_closed" };
      const amount = charge.amount - refundedOf(sql, charge.id);
      if (amount <= 0) return { ok: false, code: "nothing_to_dispute" };
      const compensated = input.reason === "unauthorized" ? Math.min(amount, Math.max(0, input.compensationLimit)) : 0;
      const id = newId("dp");
      sql.exec(
        `INSERT INTO disputes (id, transfer_id, reason, detail, amount, compensated, status, created_at, version)
         VALUES (?, ?, ?, ?, ?, ?, 'open', ?, (SELECT COALESCE(MAX(version), 0) + 1 FROM disputes))`,
        id,
        charge.id,
        input.reason,
        input.detail,
        amount,
        compensated,
        now,
      );
      this.audit(input.actor, "dispute_opened", charge, amount, `${id} on ${charge.id}: ${input.reason}`, now);
      if (compensated > 0) {
        // The payer is made whole first; the compensation account is repaid if the payer wins.
        sql.exec("UPDATE balance SET credits = credits + ? WHERE id = 1", compensated);
        this.journal.appendTransfer({
          kind: "compensation",
          amount: compensated,
          disputedCharge: charge,
          disputeId: id,
          detail: { reason: "unauthorized" },
          now,
        });
        this.audit("system", "compensation", charge, compensated, `${id}: credited at once from the compensation account`, now);
      }
      return { ok: true, dispute: this.read(id) as Dispute, balance: this.journal.readBalance() };
    });
    if (result.ok) await this.outbox.exportNow();
    return result;
  }

  /** The provider accepts (the payer wins at once) or contests with evidence (the operator decides). */
  async respond(input: RespondDisputeInput): Promise<DisputeStepResult> {
    return this.step(input.disputeId, input.providerId, (dispute, charge, now) => {
      if (dispute.contested_at !== null) return { ok: false, code: "already_contested" };
      if (input.accept) return this.payerWins(dispute, charge, "accepted", input.actor, now);
      this.journal.sql.exec(
        "UPDATE disputes SET evidence = ?, contested_at = ?, version = (SELECT MAX(version) + 1 FROM disputes) WHERE id = ?",
        input.evidence,
        now,
        dispute.id,
      );
      this.audit(input.actor, "dispute_contested", charge, dispute.amount, `${dispute.id}: contested`, now);
      return null;
    });
  }

  /** The operator's decision on an open dispute, answered by the provider or not. */
  async resolve(input: ResolveDisputeInput): Promise<DisputeStepResult> {
    return this.step(input.disputeId, null, (dispute, charge, now) => {
      if (input.winner === "payer") return this.payerWins(dispute, charge, "won_by_payer", input.actor, now);
      this.finish(dispute.id, "won_by_provider", now);
      this.audit(input.actor, "dispute_resolved", charge, 0, `${dispute.id}: won_by_provider`, now);
      return null;
    });
  }

  /** One dispute as the API shows it; null when this account has no such dispute. */
  read(id: string): Dispute | null {
    const meta = this.journal.meta();
    const row = meta
      ? this.journal.sql.one("SELECT d.*, t.provider_id, t.service_id FROM disputes d JOIN transfers t ON t.id = d.transfer_id WHERE d.id = ?", id)
      : null;
    return meta && row ? toDispute(row, meta.accountId, meta.currency) : null;
  }

  /**
   * A step on an open dispute, in one transaction: it is found (and is the provider's, when a
   * provider asks), still open, and then `apply` changes it. `apply` answers a refusal, or null
   * when it is done.
   */
  private async step(
    id: string,
    providerId: string | null,
    apply: (dispute: Dispute, charge: Transfer, now: number) => DisputeStepResult | null,
  ): Promise<DisputeStepResult> {
    await this.turns.inTurn();
    const result = this.journal.txn((): DisputeStepResult => {
      const dispute = this.read(id);
      // Another provider's dispute reads as absent, like its charges.
      if (!dispute || (providerId !== null && dispute.provider_id !== providerId)) return { ok: false, code: "not_found" };
      if (dispute.status !== "open") return { ok: false, code: "dispute_closed", status: dispute.status };
      const row = this.journal.sql.one("SELECT * FROM transfers WHERE id = ?", dispute.transfer_id);
      const refused = apply(dispute, toTransfer(row ?? {}, dispute.currency), Date.now());
      return refused ?? { ok: true, dispute: this.read(id) as Dispute };
    });
    if (result.ok) await this.outbox.exportNow();
    return result;
  }

  /** The provider's earnings refund the disputed amount; a compensation goes back where it came from. */
  private payerWins(dispute: Dispute, charge: Transfer, status: "accepted" | "won_by_payer", actor: Actor, now: number): null {
    appendRefund(this.journal, charge, dispute.amount, { actor, reason: `dispute ${dispute.id}: ${dispute.reason}`, disputeId: dispute.id, now });
    if (dispute.compensated > 0) {
      // After the refund above (amount ≥ compensated), so the no-overdraft CHECK holds throughout.
      this.journal.sql.exec("UPDATE balance SET credits = credits - ? WHERE id = 1", dispute.compensated);
      this.journal.appendTransfer({
        kind: "repayment",
        amount: dispute.compensated,
        disputedCharge: charge,
        disputeId: dispute.id,
        detail: { reason: status },
        now,
      });
      this.audit("system", "compensation_repaid", charge, dispute.compensated, `${dispute.id}: the provider's refund repays the compensation`, now);
    }
    this.finish(dispute.id, status, now);
    this.audit(actor, status === "accepted" ? "dispute_accepted" : "dispute_resolved", charge, dispute.amount, `${dispute.id}: ${status}`, now);
    return null;
  }

  private finish(id: string, status: "accepted" | "won_by_payer" | "won_by_provider", now: number): void {
    this.journal.sql.exec(
      "UPDATE disputes SET status = ?, resolved_at = ?, version = (SELECT MAX(version) + 1 FROM disputes) WHERE id = ? AND status = 'open'",
      status,
      now,
      id,
    );
  }

  private audit(actor: Actor, event: string, charge: Transfer, amount: number, reason: string, now: number): void {
    this.journal.audit(
      {
        actor,
        event,
        agent_key_id: charge.agent_key_id,
        mandate_id: charge.mandate_id,
        service_id: charge.service_id,
        request_id: charge.request_id,
        amount,
        outcome: "ok",
        reason,
      },
      now,
    );
  }
}

function toDispute(r: Row, accountId: string, currency: string): Dispute {
  return {
    id: String(r.id),
    account_id: accountId,
    transfer_id: String(r.transfer_id),
    provider_id: textOrNull(r.provider_id),
    service_id: textOrNull(r.service_id),
    reason: String(r.reason) as Dispute["reason"],
    detail: textOrNull(r.detail),
    amount: Number(r.amount),
    compensated: Number(r.compensated),
    currency,
    status: String(r.status) as Dispute["status"],
    evidence: textOrNull(r.evidence),
    contested_at: isoOrNull(r.contested_at),
    created_at: iso(r.created_at),
    resolved_at: isoOrNull(r.resolved_at),
  };
}
