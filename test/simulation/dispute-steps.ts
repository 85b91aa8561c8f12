/**
 * After the call: refunds (part, the rest, more than is left) and disputes (compensated or not) of
 * the captures so far, and their decisions (once, or both ways at once) (I5, I14).
 */
import { expect } from "vitest";
import { count, type Real } from "./knobs";
import type { LedgerModel } from "./model";
import { pick, Step } from "./step";

const capturesOf = (m: Readonly<LedgerModel>) => m.journal.flatMap((t, i) => (t.kind === "capture" ? [i] : []));

export class Refund extends Step {
  constructor(
    readonly n: number,
    readonly spec: "part" | "rest" | "over",
    readonly frac: number,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return capturesOf(m).length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const idx = pick(capturesOf(m), this.n) as number;
    const capture = m.journal[idx]!;
    const amount = this.spec === "rest" ? null : this.spec === "part" ? Math.max(1, Math.floor(capture.amount * this.frac)) : capture.amount + 1;
    const expected = m.refund(idx, amount);
    const res = await r.stub.refund({
      actor: "operator",
      transferId: capture.id!,
      providerId: null,
      amount,
      reason: null,
      idempotencyKey: null,
      fingerprint: "",
    });
    count(`refund:${expected.kind}`);
    if (expected.kind === "ok") {
      expect(res).toMatchObject({
        ok: true,
        transfer: { kind: "refund", fee: expected.fee, refund_of: capture.id, seq: m.journal.length },
        balance: m.balance,
      });
      if (res.ok) m.journal.at(-1)!.id = res.transfer.id;
    } else expect(res, "refunds stay within the charge (I5)").toEqual({ ok: false, code: "refund_exceeds_charge", refundable: expected.refundable });
  }
  toString() {
    return `Refund(#${this.n},${this.spec}${this.spec === "part" ? `:${this.frac.toFixed(2)}` : ""})`;
  }
}

export class OpenDispute extends Step {
  constructor(
    readonly n: number,
    readonly reason: "unauthorized" | "defective",
    readonly limit: number,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return capturesOf(m).length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const idx = pick(capturesOf(m), this.n) as number;
    const expected = m.openDispute(idx, this.reason, this.limit);
    const res = await r.stub.openDispute({
      actor: "owner",
      transferId: m.journal[idx]!.id!,
      reason: this.reason,
      detail: null,
      compensationLimit: this.limit,
      windowMs: 86_400_000,
    });
    count(`dispute:${expected.kind}`);
    if (expected.kind !== "ok") return void expect(res).toMatchObject({ ok: false, code: expected.kind });
    expect(res).toMatchObject({ ok: true, dispute: { amount: expected.amount, compensated: expected.compensated, status: "open" } });
    if (!res.ok) throw new Error("unreachable");
    m.addDispute({ id: res.dispute.id, captureIdx: idx, reason: this.reason, amount: expected.amount, compensated: expected.compensated });
    expect(res.balance, "compensated at once").toEqual(m.balance);
  }
  toString() {
    return `OpenDispute(#${this.n},${this.reason},limit=${this.limit})`;
  }
}

/** The operator decides a dispute, once or twice at once with opposite winners: one lands (I14). */
export class DecideDispute extends Step {
  constructor(
    readonly n: number,
    readonly winner: "payer" | "provider",
    readonly race: boolean,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return m.disputes.length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const d = pick(m.disputes, this.n)!;
    const winners: ("payer" | "provider")[] = this.race ? [this.winner, this.winner === "payer" ? "provider" : "payer"] : [this.winner];
    const results = await Promise.all(winners.map((winner) => r.stub.resolveDispute({ actor: "operator", disputeId: d.id, winner })));
    const landed = results.flatMap((res, i) => (res.ok ? [winners[i]!] : []));
    expect(landed.length, "at most one decision lands").toBeLessThanOrEqual(1);
    const outcome = m.decide(d, landed[0] ?? this.winner);
    count(`decide:${outcome}`);
    expect(landed.length, "an open dispute takes exactly one decision").toBe(outcome === "done" ? 1 : 0);
    for (const res of results) if (!res.ok) expect(res).toMatchObject({ code: "dispute_closed" });
  }
  toString() {
    return `DecideDispute(#${this.n},${this.winner}${this.race ? ",race" : ""})`;
  }
}
