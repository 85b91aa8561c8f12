import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import type { AccountShard } from "../../durable-objects/shard";
import { AccountClient, type Reservation } from "../../worker/account-client/client";
import { sendQueuedCaptures } from "../../worker/account-client/capture-queue";
import { Hold } from "../../worker/account-client/hold";
import { learnShards } from "../../worker/account-client/routing";
import { shardFor, type ShardStub } from "../../worker/account-client/stub";
import { openAccount, reserveInput, type TestAccount, testEnv } from "./helpers";

/** A request's lifetime as the Worker has it: what `waitUntil` was given, to wait for in tests. */
export class Lifetime {
  readonly pending: Promise<unknown>[] = [];
  waitUntil(p: Promise<unknown>): void {
    this.pending.push(p);
  }
  /** Waits for everything handed to waitUntil, including what those promises handed on. */
  async settled(): Promise<void> {
    for (let seen = 0; seen < this.pending.length; ) {
      const batch = this.pending.slice(seen);
      seen = this.pending.length;
      await Promise.allSettled(batch);
    }
  }
}

export type HotAccount = TestAccount & { shards: ShardStub[]; life: Lifetime };

/** An account with `credit`, one agent key with no mandate, and `shards` shard objects; this isolate routes to them. */
export async function hotAccount(credit: number, shards: number): Promise<HotAccount> {
  const acct = await openAccount(credit);
  expect(await acct.stub.setShards({ shards, actor: "owner" })).toEqual({ ok: true, shards });
  learnShards(acct.id, shards);
  const stubs = Array.from({ length: shards }, (_, i) => shardFor(testEnv, acct.id, i + 1));
  return { ...acct, shards: stubs, life: new Lifetime() };
}

/** One call's reserve as the Worker makes it (account-client routes it). */
export function reserveCall(acct: HotAccount, amount: number, keyHash = acct.keyHash): Promise<Reservation> {
  return new AccountClient(testEnv, acct.life, acct.id).reserve(reserveInput(keyHash, amount), false);
}

export const isHold = (r: Reservation): r is Hold => r instanceof Hold;

/** Sends every queued capture, then runs each shard's alarm: its captures and returns reach the parent. */
export async function settleShards(acct: HotAccount): Promise<void> {
  await acct.life.settled();
  for (const [i, shard] of acct.shards.entries()) {
    await sendQueuedCaptures(`${acct.id}#${i + 1}`, () => shard);
    await runShardAlarm(shard);
  }
}

export async function runShardAlarm(shard: ShardStub): Promise<void> {
  if (!(await runDurableObjectAlarm(shard))) await runInDurableObject(shard, (s: AccountShard) => s.alarm());
}

/** Each shard's lease as the parent sees it: granted − returned − spent. */
export async function outstanding(acct: TestAccount): Promise<number[]> {
  return runInDurableObject(acct.stub, (_l: AccountLedger, state) =>
    state.storage.sql
      .exec<{ o: number }>("SELECT granted - returned - spent AS o FROM shard_leases ORDER BY shard")
      .toArray()
      .map((r) => Number(r.o)),
  );
}

/** A shard's own balance row (its lease): credits granted, debits spent or returned, pending held. */
export function shardBalance(shard: ShardStub): Promise<{ credits: number; debits: number; pending: number }> {
  return runInDurableObject(shard, (_s: AccountShard, state) => {
    const r = state.storage.sql.exec<{ credits: number; debits: number; pending: number }>("SELECT credits, debits, pending FROM balance").one();
    return { credits: Number(r.credits), debits: Number(r.debits), pending: Number(r.pending) };
  });
}

/** The account's money is conserved: the parent's CHECK holds and no shard can spend past what it was leased. */
export async function expectNoOverdraft(acct: HotAccount): Promise<void> {
  const parent = await acct.stub.balance();
  expect(parent?.available).toBeGreaterThanOrEqual(0);
  const leases = await outstanding(acct);
  for (const [i, shard] of acct.shards.entries()) {
    const b = await shardBalance(shard);
    // What the shard may still spend or has spent but not reported never exceeds what the parent counts as leased.
    expect(b.credits - b.debits).toBeLessThanOrEqual(leases[i] ?? 0);
  }
}
