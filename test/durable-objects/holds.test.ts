import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import { balanceOf, inLedger, keyOf, ledger, newAccountId, openAccount, reserveInput, reserveOk, sleep } from "./helpers";

const userTables = (stub: ReturnType<typeof ledger>) =>
  inLedger(stub, (_i, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_cf%' ESCAPE '\\'")
      .toArray()
      .map((r) => r.name),
  );

// The hold state machine (I4, I10) and key authority (I9), through the AccountLedger's RPC.

describe("reserve", () => {
  it("moves the amount from available to pending", async () => {
    const acct = await openAccount(1_000);
    const res = await acct.stub.reserve(reserveInput(acct.keyHash, 300));
    expect(res).toMatchObject({ ok: true, agent_key_id: acct.keyId, amount: 300, available: 700, currency: "USD" });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 300));
    const hold = await acct.stub.hold((res as { hold_id: string }).hold_id);
    expect(hold).toMatchObject({ state: "pending", amount: 300, captured: null, reason: null, resolved_at: null });
  });

  it("refuses more than available and changes nothing", async () => {
    const acct = await openAccount(100);
    await reserveOk(acct, 60);
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 41))).toEqual({
      ok: false,
      code: "insufficient_funds",
      price: 41,
      available: 40,
      currency: "USD",
    });
    expect(await acct.stub.balance()).toEqual(balanceOf(100, 60));
    await reserveOk(acct, 40);
    expect(await acct.stub.balance()).toEqual(balanceOf(100, 100));
  });
});

describe("capture", () => {
  it("of the whole hold debits it once; a second capture is refused", async () => {
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 250);
    const first = await acct.stub.capture({ holdId, amount: 250 });
    expect(first).toMatchObject({ ok: true, hold: { state: "captured", captured: 250, reason: "origin_succeeded" } });
    expect(first.ok && first.transfer).toMatchObject({ kind: "capture", amount: 250, fee: 0, hold_id: holdId });
    expect(first.ok && first.balance).toEqual(balanceOf(750, 0));
    expect(await acct.stub.capture({ holdId, amount: 250 })).toEqual({ ok: false, code: "hold_not_pending", state: "captured" });
    expect(await acct.stub.capture({ holdId, amount: 1 })).toEqual({ ok: false, code: "hold_not_pending", state: "captured" });
    expect(await acct.stub.balance()).toEqual(balanceOf(750, 0));
    expect((await acct.stub.transfers(10, null)).data.map((t) => t.kind)).toEqual(["capture", "credit"]);
  });

  it("above the hold is refused and leaves the hold pending", async () => {
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 100);
    expect(await acct.stub.capture({ holdId, amount: 101 })).toEqual({ ok: false, code: "amount_exceeds_hold" });
    expect(await acct.stub.hold(holdId)).toMatchObject({ state: "pending", captured: null });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 100));
    // The hold still resolves normally afterwards.
    expect((await acct.stub.capture({ holdId, amount: 100 })).ok).toBe(true);
    expect(await acct.stub.balance()).toEqual(balanceOf(900, 0));
  });

  it("for less than the hold releases the rest", async () => {
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 400);
    await reserveOk(acct, 100);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 500));
    const res = await acct.stub.capture({ holdId, amount: 150 });
    expect(res.ok && res.hold).toMatchObject({ state: "captured", amount: 400, captured: 150 });
    expect(res.ok && res.transfer).toMatchObject({ amount: 150 });
    // posted −150; pending drops by the whole 400 hold, not just the 150 captured.
    expect(await acct.stub.balance()).toEqual(balanceOf(850, 100));
  });

  it("of zero releases the hold and writes no transfer", async () => {
    const acct = await openAccount(500);
    const holdId = await reserveOk(acct, 200);
    const res = await acct.stub.capture({ holdId, amount: 0 });
    expect(res).toMatchObject({ ok: true, transfer: null, hold: { state: "captured", captured: 0 } });
    expect(await acct.stub.balance()).toEqual(balanceOf(500, 0));
    expect((await acct.stub.transfers(10, null)).data).toHaveLength(1);
  });

  it("of an unknown hold is refused", async () => {
    const acct = await openAccount(500);
    expect(await acct.stub.capture({ holdId: newId("hold"), amount: 1 })).toEqual({ ok: false, code: "unknown_hold" });
    expect(await acct.stub.release({ holdId: newId("hold"), reason: "x" })).toEqual({ ok: false, code: "unknown_hold" });
    expect(await acct.stub.balance()).toEqual(balanceOf(500, 0));
  });
});

describe("void", () => {
  it("releases the hold; capture and void after it are refused", async () => {
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 300);
    const res = await acct.stub.release({ holdId, reason: "origin_failed" });
    expect(res).toMatchObject({ ok: true, hold: { state: "voided", captured: null, reason: "origin_failed" } });
    expect(res.ok && res.balance).toEqual(balanceOf(1_000, 0));
    expect(await acct.stub.capture({ holdId, amount: 300 })).toEqual({ ok: false, code: "hold_not_pending", state: "voided" });
    expect(await acct.stub.release({ holdId, reason: "again" })).toEqual({ ok: false, code: "hold_not_pending", state: "voided" });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 0));
    expect((await acct.stub.hold(holdId))?.reason).toBe("origin_failed");
  });

  it("after capture is refused and the debit stands", async () => {
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 300);
    expect((await acct.stub.capture({ holdId, amount: 200 })).ok).toBe(true);
    expect(await acct.stub.release({ holdId, reason: "late" })).toEqual({ ok: false, code: "hold_not_pending", state: "captured" });
    expect(await acct.stub.balance()).toEqual(balanceOf(800, 0));
    expect(await acct.stub.hold(holdId)).toMatchObject({ state: "captured", captured: 200, reason: "origin_succeeded" });
  });
});

describe("expiry by the alarm (I10)", () => {
  it("expires an overdue hold once, releases it, and refuses capture and void afterwards", async () => {
    const acct = await openAccount(1_000);
    const longId = await reserveOk(acct, 200, { ttlMs: 3_600_000 });
    const short = await acct.stub.reserve(reserveInput(acct.keyHash, 300, { ttlMs: 1 }));
    // The balance as the reserve left it (the real alarm may fire any moment after this).
    expect(short).toMatchObject({ ok: true, available: 500 });
    const shortId = (short as { hold_id: string }).hold_id;
    await sleep(10);
    // The alarm may already have fired on its own; either way the alarm is what expires it.
    await runDurableObjectAlarm(acct.stub);
    const expired = await acct.stub.hold(shortId);
    expect(expired).toMatchObject({ state: "expired", captured: null, reason: "hold_timeout" });
    expect(expired?.resolved_at).not.toBeNull();
    expect(await acct.stub.hold(longId)).toMatchObject({ state: "pending" });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 200));

    // Delivered again (alarms are at-least-once): nothing changes.
    await inLedger(acct.stub, (instance) => instance.alarm());
    await runDurableObjectAlarm(acct.stub);
    await inLedger(acct.stub, (instance) => instance.alarm());
    expect(await acct.stub.hold(shortId)).toEqual(expired);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 200));

    expect(await acct.stub.capture({ holdId: shortId, amount: 300 })).toEqual({ ok: false, code: "hold_not_pending", state: "expired" });
    expect(await acct.stub.capture({ holdId: shortId, amount: 1 })).toEqual({ ok: false, code: "hold_not_pending", state: "expired" });
    expect(await acct.stub.release({ holdId: shortId, reason: "late" })).toEqual({ ok: false, code: "hold_not_pending", state: "expired" });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 200));
    // Only the opening credit is in the journal.
    expect((await acct.stub.transfers(10, null)).data.map((t) => t.kind)).toEqual(["credit"]);
  });

  it("leaves the next expiry scheduled and does not expire holds early", async () => {
    const acct = await openAccount(100);
    const holdId = await reserveOk(acct, 40, { ttlMs: 3_600_000 });
    await inLedger(acct.stub, (instance) => instance.alarm());
    expect(await acct.stub.hold(holdId)).toMatchObject({ state: "pending" });
    const due = await inLedger(acct.stub, (_i, state) => state.storage.getAlarm());
    const expiresAt = Date.parse((await acct.stub.hold(holdId))!.expires_at);
    expect(due).toBe(expiresAt);
  });

  it("does not touch a hold captured before the alarm", async () => {
    const acct = await openAccount(1_000);
    // Long enough for the capture to come first, short enough to be overdue after the sleep.
    const holdId = await reserveOk(acct, 300, { ttlMs: 100 });
    expect((await acct.stub.capture({ holdId, amount: 120 })).ok).toBe(true);
    await sleep(150);
    await runDurableObjectAlarm(acct.stub);
    await inLedger(acct.stub, (instance) => instance.alarm());
    expect(await acct.stub.hold(holdId)).toMatchObject({ state: "captured", captured: 120 });
    expect(await acct.stub.balance()).toEqual(balanceOf(880, 0));
  });
});

describe("agent keys (I9)", () => {
  it("a revoked key cannot reserve", async () => {
    const acct = await openAccount(1_000);
    const revoked = keyOf(await acct.stub.revokeAgentKey({ id: acct.keyId, actor: "owner" }));
    expect(revoked?.revoked_at).not.toBeNull();
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 1))).toEqual({ ok: false, code: "invalid_key" });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 0));
  });

  it("a key that was just used is refused on its very next call once revoked, frozen or limited (the key cache never serves a stale key)", async () => {
    const revoked = await openAccount(1_000);
    await reserveOk(revoked, 1);
    await revoked.stub.revokeAgentKey({ id: revoked.keyId, actor: "owner" });
    expect(await revoked.stub.reserve(reserveInput(revoked.keyHash, 1))).toEqual({ ok: false, code: "invalid_key" });

    const frozen = await openAccount(1_000);
    await reserveOk(frozen, 1);
    await frozen.stub.freezeKey({ id: frozen.keyId, frozen: true, actor: "operator" });
    expect(await frozen.stub.reserve(reserveInput(frozen.keyHash, 1))).toMatchObject({ ok: false, code: "key_frozen" });
    await frozen.stub.freezeKey({ id: frozen.keyId, frozen: false, actor: "operator" });
    expect(await frozen.stub.reserve(reserveInput(frozen.keyHash, 1))).toMatchObject({ ok: true });

    const limited = await openAccount(1_000);
    await reserveOk(limited, 1);
    await limited.stub.setKeyLimits({ id: limited.keyId, limits: { max_calls_per_minute: 1 }, actor: "owner" });
    // The limit counts calls from when it is set: one more passes, the next is refused.
    expect(await limited.stub.reserve(reserveInput(limited.keyHash, 1))).toMatchObject({ ok: true });
    expect(await limited.stub.reserve(reserveInput(limited.keyHash, 1))).toMatchObject({ ok: false, code: "rate_limited" });
  });

  it("an unknown key, or another account's key, cannot reserve", async () => {
    const acct = await openAccount(1_000);
    const other = await openAccount(1_000);
    expect(await acct.stub.reserve(reserveInput("hash_unknown", 1))).toEqual({ ok: false, code: "invalid_key" });
    expect(await acct.stub.reserve(reserveInput(other.keyHash, 1))).toEqual({ ok: false, code: "invalid_key" });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 0));
    expect(await other.stub.balance()).toEqual(balanceOf(1_000, 0));
  });

  it("an unopened account answers invalid_key and creates no schema", async () => {
    const id = newAccountId();
    const stub = ledger(id);
    expect(await stub.reserve(reserveInput("hash_forged", 1))).toEqual({ ok: false, code: "invalid_key" });
    expect(await stub.agent("hash_forged")).toEqual({ ok: false, code: "invalid_key" });
    expect(await stub.balance()).toBeNull();
    expect(await stub.createAgentKey({ id: newId("ak"), name: "x", keyHash: "hash_forged", actor: "owner" })).toEqual({ ok: false, code: "not_found" });
    expect(await stub.credit({ actor: "operator", amount: 5, reference: null, idempotencyKey: null, fingerprint: "" })).toEqual({
      ok: false,
      code: "not_found",
    });
    expect(await stub.hold(newId("hold"))).toBeNull();
    expect(await userTables(stub)).toEqual([]);
    // ...and still nothing after the alarm path runs.
    await inLedger(stub, (instance) => instance.alarm());
    expect(await stub.balance()).toBeNull();
    expect(await userTables(stub)).toEqual([]);
    // Control: opening it is what creates the schema.
    expect((await stub.open({ accountId: id, currency: "USD", actor: "operator" })).ok).toBe(true);
    expect(await userTables(stub)).toContain("transfers");
  });
});
