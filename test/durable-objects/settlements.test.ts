import { describe, expect, it } from "vitest";
import type { Settlement } from "../../durable-objects/types";
import { newId } from "../../core/ids";
import { balanceOf, openAccount, reserveInput, reserveOk, type TestAccount } from "./helpers";

// The ledger's side of queued captures (worker/account-client/capture-queue.ts): `settle` and
// `settleThenReserve` apply a batch of captures, each in its own transaction (I4, I2), and report
// one outcome per capture, in order.

const capture = (holdId: string, amount: number): Settlement => ({ holdId, amount, detail: {} });

/** The journal's capture transfers of one hold (I4: at most one). */
async function capturesOf(acct: TestAccount, holdId: string) {
  return (await acct.stub.transfers(100, null)).data.filter((t) => t.kind === "capture" && t.hold_id === holdId);
}

describe("settle", () => {
  it("captures several holds in one request; the balance moves by exactly what was captured", async () => {
    const acct = await openAccount(1_000);
    const a = await reserveOk(acct, 300);
    const b = await reserveOk(acct, 200);
    const untouched = await reserveOk(acct, 100);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 600));

    // b is captured for less than it held: the other 80 goes back to available.
    expect(await acct.stub.settle([capture(a, 300), capture(b, 120)])).toEqual([
      { hold_id: a, ok: true },
      { hold_id: b, ok: true },
    ]);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000 - 300 - 120, 100));
    expect(await acct.stub.hold(a)).toMatchObject({ state: "captured", captured: 300 });
    expect(await acct.stub.hold(b)).toMatchObject({ state: "captured", captured: 120 });
    expect(await acct.stub.hold(untouched)).toMatchObject({ state: "pending", captured: null });
    expect((await capturesOf(acct, a)).map((t) => t.amount)).toEqual([300]);
    expect((await capturesOf(acct, b)).map((t) => t.amount)).toEqual([120]);
  });

  it("reports a refused capture with its code and still applies the others", async () => {
    const acct = await openAccount(1_000);
    const ok1 = await reserveOk(acct, 100);
    const over = await reserveOk(acct, 50);
    const voided = await reserveOk(acct, 70);
    const ok2 = await reserveOk(acct, 200);
    expect((await acct.stub.release({ holdId: voided, reason: "origin_error" })).ok).toBe(true);
    const unknown = newId("hold");

    // Refusals sit between the good captures: a refusal must not roll back one before it or
    // stop one after it.
    const outcomes = await acct.stub.settle([capture(ok1, 100), capture(over, 51), capture(unknown, 10), capture(voided, 70), capture(ok2, 150)]);
    expect(outcomes).toEqual([
      { hold_id: ok1, ok: true },
      { hold_id: over, ok: false, code: "amount_exceeds_hold" },
      { hold_id: unknown, ok: false, code: "unknown_hold" },
      { hold_id: voided, ok: false, code: "hold_not_pending" },
      { hold_id: ok2, ok: true },
    ]);
    // Posted: 1000 - 100 - 150; pending: only `over` (50), still held.
    expect(await acct.stub.balance()).toEqual(balanceOf(750, 50));
    expect(await acct.stub.hold(over)).toMatchObject({ state: "pending", captured: null });
    expect(await acct.stub.hold(voided)).toMatchObject({ state: "voided", captured: null });
    expect(await acct.stub.hold(unknown)).toBeNull();
    expect(await capturesOf(acct, over)).toEqual([]);
    expect(await capturesOf(acct, voided)).toEqual([]);
  });

  it("counts a hold already captured as landed and does not charge it twice", async () => {
    // The Worker resends a batch whose request failed; the first attempt may have committed.
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 100);
    expect(await acct.stub.settle([capture(holdId, 70)])).toEqual([{ hold_id: holdId, ok: true }]);
    const after = await acct.stub.balance();
    expect(after).toEqual(balanceOf(930, 0));

    expect(await acct.stub.settle([capture(holdId, 70)])).toEqual([{ hold_id: holdId, ok: true }]);
    // Also within one batch (a capture put back next to its own earlier copy).
    expect(await acct.stub.settle([capture(holdId, 70), capture(holdId, 70)])).toEqual([
      { hold_id: holdId, ok: true },
      { hold_id: holdId, ok: true },
    ]);
    expect(await acct.stub.balance()).toEqual(after);
    expect((await capturesOf(acct, holdId)).map((t) => t.amount)).toEqual([70]);
    expect(await acct.stub.hold(holdId)).toMatchObject({ state: "captured", captured: 70 });
  });
});

describe("settleThenReserve", () => {
  it("applies the captures first, so what they release is available to the reserve", async () => {
    const acct = await openAccount(100);
    const a = await reserveOk(acct, 100);

    // Without the capture, all 100 is held: a reserve of 60 is refused.
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 60))).toEqual({
      ok: false,
      code: "insufficient_funds",
      price: 60,
      available: 0,
      currency: "USD",
    });
    expect(await acct.stub.balance()).toEqual(balanceOf(100, 100));

    // Capturing 40 of A releases its other 60, which the reserve in the same request takes.
    const { settled, reserved } = await acct.stub.settleThenReserve([capture(a, 40)], reserveInput(acct.keyHash, 60));
    expect(settled).toEqual([{ hold_id: a, ok: true }]);
    expect(reserved).toMatchObject({ ok: true, amount: 60, available: 0 });
    expect(await acct.stub.balance()).toEqual(balanceOf(60, 60));
    expect(await acct.stub.hold(a)).toMatchObject({ state: "captured", captured: 40 });
    if (!reserved.ok) throw new Error("unreachable");
    expect(await acct.stub.hold(reserved.hold_id)).toMatchObject({ state: "pending", amount: 60 });
  });

  it("reserves even when the captures it carries are refused", async () => {
    const acct = await openAccount(100);
    const held = await reserveOk(acct, 30);
    const unknown = newId("hold");
    const { settled, reserved } = await acct.stub.settleThenReserve([capture(unknown, 5), capture(held, 31)], reserveInput(acct.keyHash, 70));
    expect(settled).toEqual([
      { hold_id: unknown, ok: false, code: "unknown_hold" },
      { hold_id: held, ok: false, code: "amount_exceeds_hold" },
    ]);
    expect(reserved).toMatchObject({ ok: true, amount: 70, available: 0 });
    expect(await acct.stub.balance()).toEqual(balanceOf(100, 100));
    expect(await acct.stub.hold(held)).toMatchObject({ state: "pending" });
  });

  it("keeps the captures when the reserve it carries them with is refused", async () => {
    const acct = await openAccount(100);
    const a = await reserveOk(acct, 50);
    const { settled, reserved } = await acct.stub.settleThenReserve([capture(a, 50)], reserveInput(acct.keyHash, 51));
    expect(settled).toEqual([{ hold_id: a, ok: true }]);
    expect(reserved).toEqual({ ok: false, code: "insufficient_funds", price: 51, available: 50, currency: "USD" });
    expect(await acct.stub.balance()).toEqual(balanceOf(50, 0));
    expect((await capturesOf(acct, a)).map((t) => t.amount)).toEqual([50]);
  });
});
