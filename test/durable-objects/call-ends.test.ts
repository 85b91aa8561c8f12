import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CALL_KEY_TTL_MS } from "../../durable-objects/call-keys";
import type { StoredResponse } from "../../durable-objects/types";
import { balanceOf, inLedger, openAccount, reserveInput, reserveOk, sleep, type TestAccount } from "./helpers";

// How a call ends in the ledger: its idempotency key reaches a final state in the capture's own
// transaction (I12), a long call's hold is kept alive (I10), and a capture that comes after its
// hold expired is recorded, once, for the provider to see.

const idem = (key: string) => ({ key, fingerprint: `fp-${key}` });
const response = (charge: number): StoredResponse => ({
  status: 200,
  headers: { "content-type": "text/plain" },
  body: btoa("all of it"),
  request_id: "req_x",
  charge,
});

/** Reserves a call made with an Idempotency-Key; returns its hold id. */
const keyedCall = (acct: TestAccount, key: string, amount = 100) => reserveOk(acct, amount, { idempotency: idem(key) });

describe("an idempotent call's key ends with its capture", () => {
  it("a capture that keeps the response makes the key replayable at once, and charges once", async () => {
    const acct = await openAccount(1_000);
    const holdId = await keyedCall(acct, "k-keep");
    expect(await acct.stub.settle([{ holdId, amount: 80, detail: {}, keep: response(80) }])).toEqual([{ hold_id: holdId, ok: true }]);
    const retry = await acct.stub.reserve(reserveInput(acct.keyHash, 100, { idempotency: idem("k-keep") }));
    expect(retry).toEqual({ ok: false, code: "idempotency_replay", response: response(80) });
    // Resent (the first request's answer was lost): nothing changes, the first response stays.
    expect(await acct.stub.settle([{ holdId, amount: 80, detail: {}, keep: null }])).toEqual([{ hold_id: holdId, ok: true }]);
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 100, { idempotency: idem("k-keep") }))).toMatchObject({ code: "idempotency_replay" });
    expect(await acct.stub.balance()).toEqual(balanceOf(920, 0));
  });

  it("a capture of a call that did not complete frees the key: the retry is a new call", async () => {
    const acct = await openAccount(1_000);
    const holdId = await keyedCall(acct, "k-partial");
    expect(await acct.stub.settle([{ holdId, amount: 30, detail: { reason: "client_disconnected" }, keep: null }])).toEqual([{ hold_id: holdId, ok: true }]);
    const retry = await acct.stub.reserve(reserveInput(acct.keyHash, 100, { idempotency: idem("k-partial") }));
    expect(retry).toMatchObject({ ok: true });
    expect(await acct.stub.balance()).toEqual(balanceOf(970, 100));
  });

  it("a key whose hold was captured with nothing kept is freed, not left at 409 forever", async () => {
    const acct = await openAccount(1_000);
    const holdId = await keyedCall(acct, "k-bare");
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 100, { idempotency: idem("k-bare") }))).toMatchObject({ code: "idempotency_in_flight" });
    expect((await acct.stub.capture({ holdId, amount: 50 })).ok).toBe(true);
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 100, { idempotency: idem("k-bare") }))).toMatchObject({ ok: true });
  });

  it("keys are forgotten a day after the first call: the same key is then a new call, and the alarm prunes old ones", async () => {
    const acct = await openAccount(1_000);
    const holdId = await keyedCall(acct, "k-old");
    await acct.stub.settle([{ holdId, amount: 10, detail: {}, keep: response(10) }]);
    const age = (key: string, ms: number) =>
      inLedger(acct.stub, (_i, state) => void state.storage.sql.exec("UPDATE call_keys SET created_at = created_at - ? WHERE idempotency_key = ?", ms, key));
    // Just inside the window: still a replay.
    await age("k-old", CALL_KEY_TTL_MS - 60_000);
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 100, { idempotency: idem("k-old") }))).toMatchObject({ code: "idempotency_replay" });
    await age("k-old", 60_000);
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 100, { idempotency: idem("k-old") }))).toMatchObject({ ok: true });

    await keyedCall(acct, "k-stale");
    await age("k-stale", CALL_KEY_TTL_MS);
    await inLedger(acct.stub, (instance) => instance.alarm());
    const left = await inLedger(acct.stub, (_i, state) => state.storage.sql.exec<{ k: string }>("SELECT idempotency_key AS k FROM call_keys").toArray());
    expect(left.map((r) => r.k)).toEqual(["k-old"]);
  });
});

describe("a long call's hold (I10)", () => {
  it("extendHold pushes a pending hold's expiry, never shortens it, and the alarm then leaves it alone", async () => {
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 300, { ttlMs: 200 });
    const before = Date.parse((await acct.stub.hold(holdId))!.expires_at);
    const extended = await acct.stub.extendHold(holdId, 60_000);
    expect(extended.ok).toBe(true);
    const after = Date.parse((await acct.stub.hold(holdId))!.expires_at);
    expect(after).toBeGreaterThanOrEqual(before + 59_000);
    expect(await acct.stub.extendHold(holdId, 1)).toMatchObject({ ok: true, expires_at: new Date(after).toISOString() });
    await sleep(250);
    await runDurableObjectAlarm(acct.stub);
    await inLedger(acct.stub, (instance) => instance.alarm());
    expect(await acct.stub.hold(holdId)).toMatchObject({ state: "pending" });
    expect((await acct.stub.capture({ holdId, amount: 300 })).ok).toBe(true);
    expect(await acct.stub.extendHold(holdId, 60_000)).toEqual({ ok: false, code: "hold_not_pending", state: "captured" });
    expect(await acct.stub.extendHold("hold_nope", 60_000)).toEqual({ ok: false, code: "unknown_hold" });
  });

  it("a capture after the hold expired charges nothing and is recorded once as uncollected", async () => {
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 300, { ttlMs: 1 });
    await sleep(10);
    await inLedger(acct.stub, (instance) => instance.alarm());
    expect(await acct.stub.settle([{ holdId, amount: 250, detail: {} }])).toEqual([{ hold_id: holdId, ok: false, code: "hold_not_pending" }]);
    expect(await acct.stub.capture({ holdId, amount: 250 })).toEqual({ ok: false, code: "hold_not_pending", state: "expired" });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 0));
    const events = (await acct.stub.auditEvents(50, null)).data.filter((e) => e.event === "uncollected");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: "refused", actor: "system", amount: 250, reason: "hold_expired", service_id: "svc_test" });
  });
});
