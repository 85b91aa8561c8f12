/**
 * Settling holds: captures (0, part, all, more, twice), voids, and keeping a settled idempotent
 * call's response. `expectCapture` is shared with the crash steps and the run's setup and recovery.
 */
import { expect } from "vitest";
import type { LedgerStub } from "../../worker/account-client/stub";
import { count, type Real } from "./knobs";
import type { LedgerModel } from "./model";
import type { ModelHold, StoredCall } from "./model-types";
import { type HoldPick, pick, pickHold, Step, showPick } from "./step";

export type CaptureSpec = "zero" | "part" | "all" | "over";
function captureAmount(hold: ModelHold | undefined, spec: CaptureSpec, frac: number): number {
  const held = hold?.amount ?? 100;
  if (spec === "zero") return 0;
  if (spec === "part") return Math.floor(held * frac);
  if (spec === "all") return held;
  return held + 1 + Math.floor(frac * 1_000);
}

export function expectCapture(
  m: LedgerModel,
  expected: ReturnType<LedgerModel["capture"]>,
  res: Awaited<ReturnType<LedgerStub["capture"]>>,
  hold: ModelHold | undefined,
  amount: number,
) {
  count(`capture:${expected.kind}${expected.kind === "hold_not_pending" ? `:${expected.state}` : ""}`);
  switch (expected.kind) {
    case "ok": {
      expect(res).toMatchObject({ ok: true, hold: { id: hold!.id, state: "captured", captured: amount }, balance: m.balance });
      if (!res.ok) throw new Error("unreachable");
      if (expected.transfer) {
        expect(res.transfer).toMatchObject({
          kind: "capture",
          amount,
          fee: expected.fee,
          hold_id: hold!.id,
          seq: m.journal.length,
          provider_id: hold!.providerId,
        });
        (m.journal.at(-1) as { id: string | null }).id = res.transfer!.id;
      } else expect(res.transfer, "a zero capture moves no money").toBeNull();
      break;
    }
    case "hold_not_pending":
      expect(res, "a hold resolves once (I4)").toEqual({ ok: false, code: "hold_not_pending", state: expected.state });
      break;
    default:
      expect(res).toEqual({ ok: false, code: expected.kind });
  }
}

export class Capture extends Step {
  constructor(
    readonly holdPick: HoldPick,
    readonly spec: CaptureSpec,
    readonly frac: number,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return this.holdPick.from === "unknown" || m.holds.length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const hold = pickHold(m, this.holdPick);
    const amount = captureAmount(hold, this.spec, this.frac);
    const expected = m.capture(hold, amount);
    const res = await r.stub.capture({ holdId: hold?.id ?? "hold_unknown", amount });
    expectCapture(m, expected, res, hold, amount);
  }
  toString() {
    return `Capture(${showPick(this.holdPick)},${this.spec}${this.spec === "part" ? `:${this.frac.toFixed(2)}` : ""})`;
  }
}

export class Void extends Step {
  constructor(
    readonly holdPick: HoldPick,
    readonly reason: string,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return this.holdPick.from === "unknown" || m.holds.length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const hold = pickHold(m, this.holdPick);
    const expected = m.void(hold, this.reason);
    const res = await r.stub.release({ holdId: hold?.id ?? "hold_unknown", reason: this.reason });
    count(`void:${expected.kind}`);
    if (expected.kind === "ok") expect(res).toMatchObject({ ok: true, hold: { id: hold!.id, state: "voided", captured: null }, balance: m.balance });
    else if (expected.kind === "hold_not_pending")
      expect(res, "a hold resolves once (I4)").toEqual({ ok: false, code: "hold_not_pending", state: expected.state });
    else expect(res).toEqual({ ok: false, code: "unknown_hold" });
  }
  toString() {
    return `Void(${showPick(this.holdPick)},${this.reason})`;
  }
}

/** A settled idempotent call keeps its response; a retry with its key then gets it back. */
export class KeepResponse extends Step {
  constructor(readonly n: number) {
    super();
  }
  private candidates(m: Readonly<LedgerModel>) {
    return [...m.callKeys.values()].filter((c) => c.response === null && m.holds[c.holdIdx]?.state === "captured");
  }
  override check(m: Readonly<LedgerModel>) {
    return this.candidates(m).length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const ck = pick(this.candidates(m), this.n)!;
    const hold = m.holds[ck.holdIdx] as ModelHold;
    const response: StoredCall = {
      status: 200,
      headers: { "content-type": "application/json" },
      body: `{"n":${this.n}}`,
      request_id: hold.requestId,
      charge: hold.captured,
    };
    await r.stub.keepResponse(hold.id, response);
    ck.response = response;
  }
  toString() {
    return `KeepResponse(#${this.n})`;
  }
}
