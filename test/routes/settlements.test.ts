import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import type { Hold, Settlement } from "../../durable-objects/types";
import { captureTiming, queueCapture, queuedCaptures, sendQueuedCaptures } from "../../worker/account-client/capture-queue";
import { ledgerFor, type LedgerStub } from "../../worker/account-client/stub";
import { balanceOf, openAccount, reserveInput, reserveOk } from "../durable-objects/helpers";
import { testEnv } from "./ledger-helpers";
import { api, call, createProvider, createService, payer, type Payer } from "./helpers";

// Captures of served calls wait in the isolate's queue (worker/account-client/capture-queue.ts) and reach
// the ledger with the account's next reserve, on a timer, or before a read of the account. The
// Worker under test runs in this isolate, so this file sees the same queue the proxy fills.

const PRICE = 300;

let prov: { id: string; key: string };
let slug: string;
beforeAll(async () => {
  prov = await createProvider();
  slug = (await createService(prov.key, { prices: [{ per_call: PRICE }] })).slug;
});

// Retries back off for ~20 s in production; these tests retry every SETTLE_RETRY_MS.
const SETTLE_RETRY_MS = 50;
const TIMING = { ...captureTiming };
beforeEach(() => {
  captureTiming.retryDelaysMs = [SETTLE_RETRY_MS, SETTLE_RETRY_MS, SETTLE_RETRY_MS];
});
afterEach(() => {
  Object.assign(captureTiming, TIMING);
  vi.restoreAllMocks();
});

/** One paid call; returns its response headers (the body is drained). */
async function paidCall(p: Payer): Promise<Headers> {
  const res = await call(`/s/${slug}/echo`, { key: p.agentKey });
  expect(res.status, await res.clone().text()).toBe(200);
  await res.body?.cancel();
  return res.headers;
}

/** The hold of a proxied call, found by its request id in the account's ledger. */
function holdOf(accountId: string, requestId: string | null): Promise<Hold> {
  return runInDurableObject(ledgerFor(testEnv, accountId), async (instance: AccountLedger, state) => {
    const { id } = state.storage.sql.exec<{ id: string }>("SELECT id FROM holds WHERE request_id = ?", requestId).one();
    const hold = await instance.hold(id);
    if (!hold) throw new Error(`hold ${id} vanished`);
    return hold;
  });
}

/** Polls `check` until it is true; fails after `ms` (the timer is ~captureTiming.delayMs, not exact). */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// These tests look at the queue within a few ms of a call's response, well inside captureTiming.delayMs
// (a local call takes ~10 ms); nothing here can hold the timer back. On a machine slow enough for
// the timer to fire first, "waits in the queue" would fail, and the ride test would pass through
// the timer instead of the ride (without a ride, the first hold is still pending when the second
// call returns, 2 captures wait, and it fails).
describe("a served call's capture", () => {
  it("is answered with its charge and balance, and waits in the queue with its hold pending", async () => {
    const p = await payer(1_000);
    const headers = await paidCall(p);
    expect(headers.get("tollgate-charge")).toBe(String(PRICE));
    expect(headers.get("tollgate-balance")).toBe(String(1_000 - PRICE));
    expect(queuedCaptures(p.accountId)).toBe(1);

    const hold = await holdOf(p.accountId, headers.get("tollgate-request-id"));
    expect(hold).toMatchObject({ state: "pending", amount: PRICE, captured: null });
    // Still queued after the read: the hold was read before any flush took the capture.
    expect(queuedCaptures(p.accountId)).toBe(1);
    // The ledger itself (no flush-before-read here): held, not yet posted.
    expect(await ledgerFor(testEnv, p.accountId).balance()).toEqual(balanceOf(1_000, PRICE));
  });

  it("rides with the account's next reserve; the last one goes on the timer", async () => {
    const p = await payer(1_000);
    const first = (await paidCall(p)).get("tollgate-request-id");
    expect(queuedCaptures(p.accountId)).toBe(1);

    const second = (await paidCall(p)).get("tollgate-request-id");
    // The second call's reserve carried the first capture; only the second's waits now.
    expect(await holdOf(p.accountId, first)).toMatchObject({ state: "captured", captured: PRICE });
    expect(await holdOf(p.accountId, second)).toMatchObject({ state: "pending", captured: null });
    expect(queuedCaptures(p.accountId)).toBe(1);

    // No third call comes: the timer sends the second capture on its own.
    await until("the queue is empty and the second hold captured", async () => {
      return queuedCaptures(p.accountId) === 0 && (await holdOf(p.accountId, second)).state === "captured";
    });
    expect(await holdOf(p.accountId, second)).toMatchObject({ captured: PRICE });
    expect(await ledgerFor(testEnv, p.accountId).balance()).toEqual(balanceOf(1_000 - 2 * PRICE, 0));
    const captures = (await ledgerFor(testEnv, p.accountId).transfers(10, null)).data.filter((t) => t.kind === "capture");
    expect(captures.map((t) => t.request_id).sort()).toEqual([first, second].sort());
  });

  it("is posted before the owner reads the balance right after the call", async () => {
    const p = await payer(1_000);
    const headers = await paidCall(p);
    expect(queuedCaptures(p.accountId)).toBe(1);

    const read = await api(`/v1/accounts/${p.accountId}/balance`, { key: p.ownerKey });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ currency: "USD", posted: 1_000 - PRICE, pending: 0, available: 1_000 - PRICE });
    expect(queuedCaptures(p.accountId)).toBe(0);
    // For a lone call, what the response said is left is what the account shows.
    expect(headers.get("tollgate-balance")).toBe(String(read.body.available));
    expect(await holdOf(p.accountId, headers.get("tollgate-request-id"))).toMatchObject({ state: "captured", captured: PRICE });
  });

  it("is posted before the agent reads /v1/me right after the call", async () => {
    const p = await payer(1_000);
    await paidCall(p);
    expect(queuedCaptures(p.accountId)).toBe(1);
    const me = await api("/v1/me", { key: p.agentKey });
    expect(me.status).toBe(200);
    expect(me.body.balance).toEqual({ currency: "USD", posted: 1_000 - PRICE, pending: 0, available: 1_000 - PRICE });
  });

  it("of a call with an Idempotency-Key is not queued (a retry needs it landed)", async () => {
    const p = await payer(1_000);
    const res = await call(`/s/${slug}/echo`, { key: p.agentKey, headers: { "idempotency-key": "once" } });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    expect(queuedCaptures(p.accountId)).toBe(0);
    const requestId = res.headers.get("tollgate-request-id");
    await until("the keyed call's hold is captured", async () => (await holdOf(p.accountId, requestId)).state === "captured");
  });
});

/** A stand-in for the ledger whose every request fails (the object is unreachable). */
function unreachableLedger(): { stub: LedgerStub; batches: string[][] } {
  const batches: string[][] = [];
  const stub = {
    settle: async (settlements: readonly Settlement[]) => {
      batches.push(settlements.map((s) => s.holdId));
      throw new Error("ledger unreachable");
    },
  };
  return { stub: stub as unknown as LedgerStub, batches };
}

/** A request context that keeps what it is asked to wait for, so the test can wait for it too. */
function lifetime(): { ctx: { waitUntil(p: Promise<unknown>): void }; done: () => Promise<unknown>; count: () => number } {
  const kept: Promise<unknown>[] = [];
  return { ctx: { waitUntil: (p) => void kept.push(p) }, done: () => Promise.all(kept), count: () => kept.length };
}

describe("the flush timer", () => {
  it("is one per account: captures queued while it is set go with it, in one request", async () => {
    const acct = await openAccount(1_000);
    const holds = [await reserveOk(acct, 10), await reserveOk(acct, 20), await reserveOk(acct, 30)];
    const sent: string[][] = [];
    const recording = {
      settle: (s: readonly Settlement[]) => {
        sent.push(s.map((x) => x.holdId));
        return acct.stub.settle(s);
      },
    } as unknown as LedgerStub;
    const first = lifetime();
    const later = lifetime();
    queueCapture(first.ctx, acct.id, { holdId: holds[0] as string, amount: 10, detail: {} }, () => recording);
    queueCapture(later.ctx, acct.id, { holdId: holds[1] as string, amount: 20, detail: {} }, () => recording);
    queueCapture(later.ctx, acct.id, { holdId: holds[2] as string, amount: 30, detail: {} }, () => recording);
    // Only the first request waits for a timer; the others' captures ride on it.
    expect(first.count()).toBe(1);
    expect(later.count()).toBe(0);
    await first.done();
    expect(sent).toEqual([holds]);
    expect(queuedCaptures(acct.id)).toBe(0);
    expect(await acct.stub.balance()).toEqual(balanceOf(940, 0));
    // Once it has fired, the next capture sets a new one.
    const next = lifetime();
    queueCapture(next.ctx, acct.id, { holdId: await reserveOk(acct, 5), amount: 5, detail: {} }, () => recording);
    expect(next.count()).toBe(1);
    await next.done();
    expect(sent).toHaveLength(2);
  });
});

// Holds are made on the ledger directly (no proxied call), so no request's own timer races the
// flushes under test with the real ledger.
describe("a flush that fails", () => {
  /** An account with two holds (100 and 50 of 1,000), a ledger stub that always fails, a request lifetime. */
  async function twoHoldsAndADownLedger() {
    const acct = await openAccount(1_000);
    const a = await reserveOk(acct, 100);
    const b = await reserveOk(acct, 50);
    return { acct, a, b, down: unreachableLedger(), life: lifetime() };
  }

  it("keeps the captures queued, and a later flush with the real ledger captures them", async () => {
    const { acct, a, b, down, life } = await twoHoldsAndADownLedger();
    queueCapture(life.ctx, acct.id, { holdId: a, amount: 60, detail: {} }, () => down.stub);
    queueCapture(life.ctx, acct.id, { holdId: b, amount: 50, detail: {} }, () => down.stub);
    expect(queuedCaptures(acct.id)).toBe(2);

    const failing = sendQueuedCaptures(acct.id, () => down.stub);
    // The batch is taken and in flight; once its request fails it is back in the queue.
    expect(queuedCaptures(acct.id)).toBe(0);
    await until("the failed batch is back in the queue", () => queuedCaptures(acct.id) === 2);
    expect(down.batches).toEqual([[a, b]]);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 150));

    await sendQueuedCaptures(acct.id, () => acct.stub);
    expect(queuedCaptures(acct.id)).toBe(0);
    expect(await acct.stub.hold(a)).toMatchObject({ state: "captured", captured: 60 });
    expect(await acct.stub.hold(b)).toMatchObject({ state: "captured", captured: 50 });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000 - 60 - 50, 0));

    // The failing flush and the queued timers wake to an empty queue: nothing more is sent.
    await failing;
    await life.done();
    expect(down.batches).toEqual([[a, b]]);
  });

  it("an idempotent call's capture goes at once, is retried after a failed request, and ends its key replayable", async () => {
    const { acct, down, life } = await twoHoldsAndADownLedger();
    const idempotency = { key: "retry-me", fingerprint: "fp" };
    const holdId = await reserveOk(acct, 40, { idempotency });
    let failures = 0;
    // The first request to the ledger fails (the object reset); the next goes through.
    const flaky = () => (failures++ === 0 ? down.stub : acct.stub);
    const kept = { status: 200, headers: {}, body: btoa("the answer"), request_id: "req_kept", charge: 40 };
    queueCapture(life.ctx, acct.id, { holdId, amount: 40, detail: {}, keep: kept }, flaky);
    // Sent at once (not waiting for a ride): the request lifetime already waits on it.
    expect(life.count()).toBe(1);
    await life.done();
    expect(down.batches).toEqual([[holdId]]);
    expect(await acct.stub.hold(holdId)).toMatchObject({ state: "captured", captured: 40 });
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 40, { idempotency }))).toEqual({ ok: false, code: "idempotency_replay", response: kept });
  });

  it("gives up a capture after its attempts (3 here), counted per capture; its hold is left to expire", async () => {
    captureTiming.retryDelaysMs = [SETTLE_RETRY_MS, SETTLE_RETRY_MS];
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { acct, a, b, down, life } = await twoHoldsAndADownLedger();
    queueCapture(life.ctx, acct.id, { holdId: a, amount: 100, detail: {} }, () => down.stub);
    const flushing = sendQueuedCaptures(acct.id, () => down.stub);
    await until("a's first attempt has failed", () => queuedCaptures(acct.id) === 1);
    // b joins a after a's first failure: b has had one attempt fewer.
    queueCapture(life.ctx, acct.id, { holdId: b, amount: 50, detail: {} }, () => down.stub);

    // Every flush (this one and each capture's own timer) keeps going until nothing is left.
    // Attempts are SETTLE_RETRY_MS apart, so this takes a few of them.
    await flushing;
    await life.done();
    expect(queuedCaptures(acct.id)).toBe(0);

    // a: attempts 1, 2, 3 then dropped; b: attempts 1, 2 with a, then 3 alone.
    expect(down.batches).toEqual([[a], [a, b], [a, b], [b]]);
    const givenUp = errors.mock.calls.filter((c) => String(c[0]).includes("given up")).map((c) => c[1]);
    expect(givenUp).toEqual([a, b]);
    // Nothing was charged: both holds still pending (the alarm expires them, uncharged).
    expect(await acct.stub.hold(a)).toMatchObject({ state: "pending", captured: null });
    expect(await acct.stub.hold(b)).toMatchObject({ state: "pending", captured: null });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 150));
  });
});
