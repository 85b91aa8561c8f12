/**
 * Fault steps: alarm runs (export, delivered twice), crashes between steps, crashes *during* a
 * credit, a capture and an export (the caller retries), D1 failing during export and lost export
 * cursors (as if the object died after D1 committed).
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import { ledger } from "../durable-objects/helpers";
import { expectCapture } from "./capture-steps";
import { alarmStep, breakD1, crash, restoreD1, runAlarm } from "./faults";
import type { Real } from "./knobs";
import { fingerprintOf, type LedgerModel } from "./model";
import { pick, Step } from "./step";

export class Alarm extends Step {
  constructor(
    readonly how: "scheduled" | "direct",
    readonly twice: boolean,
  ) {
    super();
  }
  protected act(m: LedgerModel, r: Real) {
    return alarmStep(m, r, this.how, this.twice);
  }
  toString() {
    return `Alarm(${this.how}${this.twice ? ",twice" : ""})`;
  }
}

/** The object dies between steps and must come back from storage alone. */
export class Crash extends Step {
  constructor(readonly kind: "abort" | "evict") {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    m.crashes++;
    await crash(r, this.kind);
  }
  toString() {
    return `Crash(${this.kind})`;
  }
}

/** The object dies while a keyed credit is in flight; the caller retries: exactly one transfer. */
export class CrashDuringCredit extends Step {
  constructor(readonly amount: number) {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    const key = `crash-${m.journal.length}-${m.auditLength}`;
    const input = {
      actor: "operator" as const,
      amount: this.amount,
      reference: "crash",
      idempotencyKey: key,
      fingerprint: fingerprintOf(this.amount, "crash"),
    };
    m.crashes++;
    const [first] = await Promise.allSettled([r.stub.credit(input), abortAllDurableObjects()]);
    r.stub = ledger(r.accountId);
    const retry = await r.stub.credit(input);
    if (!retry.ok) throw new Error(`retry failed: ${JSON.stringify(retry)}`);
    if (first.status === "fulfilled" && first.value.ok) {
      expect(retry, "a retry after an answered credit replays it").toEqual({ ...first.value, replayed: true });
    }
    m.credit(this.amount, "crash", key);
    (m.journal.at(-1) as { id: string | null }).id = retry.transfer.id;
    m.rememberCredit(key, this.amount, "crash", { ...retry, replayed: false });
    m.lastCredit = { amount: this.amount, reference: "crash", idempotencyKey: key };
    // The balance in the first answer is the one after this credit; a replay returns it unchanged.
    expect(retry.balance.posted).toBe(m.posted);
  }
  toString() {
    return `CrashDuringCredit(${this.amount})`;
  }
}

/** The object dies while a capture is in flight; the caller retries: captured exactly once. */
export class CrashDuringCapture extends Step {
  constructor(
    readonly holdPick: number,
    readonly frac: number,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return m.holds.some((h) => h.state === "pending");
  }
  protected async act(m: LedgerModel, r: Real) {
    const hold = pick(
      m.holds.filter((h) => h.state === "pending"),
      this.holdPick,
    )!;
    const amount = Math.floor(hold.amount * this.frac);
    m.crashes++;
    const [first] = await Promise.allSettled([r.stub.capture({ holdId: hold.id, amount }), abortAllDurableObjects()]);
    r.stub = ledger(r.accountId);
    const retry = await r.stub.capture({ holdId: hold.id, amount });
    const expected = m.capture(hold, amount);
    if (first.status === "fulfilled") {
      expectCapture(m, expected, first.value, hold, amount);
      expect(retry, "a retried capture is refused (I4)").toEqual({ ok: false, code: "hold_not_pending", state: "captured" });
    } else if (retry.ok) {
      expectCapture(m, expected, retry, hold, amount);
    } else {
      // The first landed but its answer was lost: the journal tells its id (adopted by checkAll).
      expect(retry).toEqual({ ok: false, code: "hold_not_pending", state: "captured" });
    }
  }
  toString() {
    return `CrashDuringCapture(hold#${this.holdPick},${this.frac.toFixed(2)})`;
  }
}

/** The object dies mid-export; D1 may have committed a batch whose cursor never moved. */
export class CrashDuringAlarm extends Step {
  protected async act(m: LedgerModel, r: Real) {
    m.crashes++;
    m.expireOverdue(); // nothing is overdue between steps (1 ms holds expire within their own step)
    await Promise.allSettled([runAlarm(r, "direct"), abortAllDurableObjects()]);
    r.stub = ledger(r.accountId);
  }
  toString() {
    return "CrashDuringAlarm";
  }
}

/** As if the object died after D1 committed but before the cursor moved: the rows are re-sent. */
export class LoseExportCursor extends Step {
  constructor(readonly frac: number) {
    super();
  }
  protected async act(_m: LedgerModel, r: Real) {
    await runInDurableObject(r.stub, (_i: AccountLedger, state) => {
      state.storage.sql.exec(
        "UPDATE export_state SET exported_seq = CAST(exported_seq * ? AS INTEGER), audit_exported_seq = CAST(audit_exported_seq * ? AS INTEGER) WHERE id = 1",
        this.frac,
        this.frac,
      );
    });
  }
  toString() {
    return `LoseExportCursor(${this.frac.toFixed(2)})`;
  }
}

export class BreakD1 extends Step {
  constructor(readonly table: "transfers" | "ledger_entries" | "audit_events") {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return m.d1Fault === null;
  }
  protected async act(m: LedgerModel) {
    await breakD1(m, this.table);
  }
  toString() {
    return `BreakD1(${this.table})`;
  }
}

export class RestoreD1 extends Step {
  override check(m: Readonly<LedgerModel>) {
    return m.d1Fault !== null;
  }
  protected async act(m: LedgerModel) {
    await restoreD1(m);
  }
  toString() {
    return "RestoreD1";
  }
}
