import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { utcDay } from "../../durable-objects/mandate-check";
import { balanceOf, inLedger, openAccount, reserveInput, sleep } from "./helpers";
import { type Ok, bound, counters, days, expectRefused, reserveOk } from "./mandate-helpers";

// A mandate's counters (all time and per UTC day) move with its holds: capture, void and expiry.

describe("counters follow the hold", () => {
  it("capture moves pending → spent (all time and on the hold's day); a partial capture frees the rest", async () => {
    const acct = await bound(1_000, { max_total: 50, max_per_day: 50 });
    const a = await reserveOk(acct, 30);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 30 });
    expect((await acct.stub.capture({ holdId: a, amount: 12 })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 12, pending: 0 });
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 12, pending: 0 }]);
    // 12 spent: 38 left, exactly.
    await expectRefused(acct, 39, "mandate_exceeded");
    await reserveOk(acct, 38);
    expect(await counters(acct)).toEqual({ spent: 12, pending: 38 });
    expect(await acct.stub.balance()).toEqual(balanceOf(988, 38));
  });

  it("a capture of zero spends nothing and releases the hold from the mandate", async () => {
    const acct = await bound(1_000, { max_total: 10, max_per_call: 10 });
    const a = await reserveOk(acct, 10);
    expect((await acct.stub.capture({ holdId: a, amount: 0 })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 0 });
    await reserveOk(acct, 10);
  });

  it("void releases the hold from the mandate and the day", async () => {
    const acct = await bound(1_000, { max_total: 10, max_per_call: 10, max_per_day: 10 });
    const a = await reserveOk(acct, 10);
    await expectRefused(acct, 1, "mandate_exceeded");
    expect((await acct.stub.release({ holdId: a, reason: "origin_failed" })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 0 });
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 0, pending: 0 }]);
    await reserveOk(acct, 10);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 10 });
  });

  it("expiry (the alarm) releases the hold from the mandate", async () => {
    const acct = await bound(1_000, { max_total: 10, max_per_call: 10 });
    const a = await reserveOk(acct, 10, { ttlMs: 1 });
    await sleep(5);
    // The alarm set for the expiry may already have run on its own; running it again is a no-op.
    if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
    expect(await acct.stub.hold(a)).toMatchObject({ state: "expired", reason: "hold_timeout", mandate_id: acct.mandate.id });
    expect(await counters(acct)).toEqual({ spent: 0, pending: 0 });
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 0, pending: 0 }]);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 0));
    await reserveOk(acct, 10);
  });

  it("a hold and its capture carry the mandate id; the transfer too", async () => {
    const acct = await bound(1_000);
    const a = await reserveOk(acct, 9);
    expect(await acct.stub.hold(a)).toMatchObject({ mandate_id: acct.mandate.id, agent_key_id: acct.keyId });
    const captured = await acct.stub.capture({ holdId: a, amount: 9 });
    expect(captured.ok && captured.transfer).toMatchObject({ kind: "capture", amount: 9, mandate_id: acct.mandate.id, agent_key_id: acct.keyId });
  });

  it("a key without a mandate is bounded only by the balance", async () => {
    const acct = await openAccount(1_000);
    const a = await acct.stub.reserve(reserveInput(acct.keyHash, 1_000));
    expect(a).toMatchObject({ ok: true, amount: 1_000, available: 0 });
    expect(await acct.stub.hold((a as Ok).hold_id)).toMatchObject({ mandate_id: null });
  });
});
