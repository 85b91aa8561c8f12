import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import { shardName } from "../../durable-objects/shard-types";
import { AccountClient } from "../../worker/account-client/client";
import { sendQueuedCaptures } from "../../worker/account-client/capture-queue";
import { learnShards } from "../../worker/account-client/routing";
import { ledgerFor, shardFor } from "../../worker/account-client/stub";
import type { Env } from "../../worker/env";
import { balanceOf, openAccount, reserveInput, testEnv } from "./helpers";
import { isHold, Lifetime, runShardAlarm } from "./shard-helpers";

/**
 * The measurement behind docs/HOT-ACCOUNTS.md: one hot account, the same storm of calls with one
 * object and with 8 shards. It prints, for each, how many calls succeeded (exactly the funded
 * number), the balance after (0), how many requests each object served, and the busiest object's
 * share of all the account's requests (Worker → objects, shard → parent, parent → shard).
 */

/** 20,000 calls against funds for 10,000: 10,000 must succeed and 10,000 be refused (402). */
const CALLS = 20_000;
const FUNDED = 10_000;
/** Callers sending one call after another (the Worker's isolates, in effect). */
const CALLERS = 200;

/** A namespace whose stubs count every RPC call per object name. */
function counting<T>(namespace: T, counts: Map<string, number>): T {
  const ns = namespace as unknown as { idFromName(name: string): DurableObjectId; get(id: DurableObjectId): object };
  const names = new Map<string, string>();
  return {
    idFromName(name: string) {
      const id = ns.idFromName(name);
      names.set(id.toString(), name);
      return id;
    },
    get(id: DurableObjectId) {
      const stub = ns.get(id);
      const name = names.get(id.toString()) ?? id.toString();
      return new Proxy(stub, {
        get(target, prop) {
          const value = Reflect.get(target, prop);
          if (typeof value !== "function" || prop === "then") return value;
          return (...args: unknown[]) => {
            counts.set(name, (counts.get(name) ?? 0) + 1);
            return Reflect.apply(value, target, args);
          };
        },
      });
    },
  } as unknown as T;
}

async function measure(shards: number, funded: number) {
  const acct = await openAccount(funded);
  if (shards > 1) {
    await acct.stub.setShards({ shards, actor: "owner" });
    learnShards(acct.id, shards);
  }
  const counts = new Map<string, number>();
  const env = { ACCOUNT: counting(testEnv.ACCOUNT, counts), SHARD: counting(testEnv.SHARD, counts) } as Pick<Env, "ACCOUNT" | "SHARD">;
  const life = new Lifetime();
  let sent = 0;
  let succeeded = 0;
  let refused = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (sent < CALLS) {
        sent++;
        const r = await new AccountClient(env, life, acct.id).reserve(reserveInput(acct.keyHash, 1), false);
        if (isHold(r)) {
          succeeded++;
          r.capture(1, {});
        } else {
          expect(r).toMatchObject({ code: "insufficient_funds" });
          refused++;
        }
      }
    }),
  );
  const ms = Date.now() - started;
  await life.settled();
  for (let i = 1; i <= shards && shards > 1; i++) {
    await sendQueuedCaptures(`${acct.id}#${i}`, () => shardFor(testEnv, acct.id, i));
    await runShardAlarm(shardFor(testEnv, acct.id, i));
  }
  await sendQueuedCaptures(acct.id, () => ledgerFor(testEnv, acct.id));
  // Requests between the objects themselves, as each counted them.
  const inner = await runInDurableObject(acct.stub, (l: AccountLedger) => ({ fromShards: l.leases.shardRequests, toShards: [...l.leases.sentToShard] }));
  counts.set(acct.id, (counts.get(acct.id) ?? 0) + inner.fromShards);
  for (const [i, n] of inner.toShards) counts.set(shardName(acct.id, i), (counts.get(shardName(acct.id, i)) ?? 0) + n);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const busiest = Math.max(...counts.values());
  const perObject = Object.fromEntries([...counts].map(([k, v]) => [k === acct.id ? "parent" : k.slice(acct.id.length + 1), v]));
  return { shards, funded, calls: CALLS, succeeded, refused, balance: await acct.stub.balance(), total, busiest, share: busiest / total, perObject, ms };
}

describe("measurement: one object vs 8 shards for one hot account", () => {
  for (const funded of [FUNDED]) {
    it(`${CALLS} calls against funds for ${funded}: exactly ${funded} succeed and the rest are refused either way; with 8 shards the busiest object serves ≤ 1/4`, async () => {
      for (const shards of [1, 8]) {
        const m = await measure(shards, funded);
        console.log(
          `hot account, ${m.shards === 1 ? "one object" : `${m.shards} shards`}: ${m.calls} calls, funds for ${m.funded}, ${m.succeeded} succeeded, ${m.refused} refused (402), balance ${JSON.stringify(m.balance)}; ` +
            `${m.total} requests, busiest object ${m.busiest} (${(m.share * 100).toFixed(1)} %), ${m.ms} ms; per object ${JSON.stringify(m.perObject)}`,
        );
        expect(m.succeeded).toBe(funded);
        expect(m.refused).toBe(CALLS - funded);
        expect(m.balance).toEqual(balanceOf(0, 0));
        if (shards === 1) expect(m.share).toBe(1);
        else expect(m.share).toBeLessThanOrEqual(0.25);
      }
    }, 600_000);
  }
});
