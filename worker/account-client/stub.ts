import { shardName } from "../../durable-objects/shard-types";
import type { Env } from "../env";

/** The AccountLedger Durable Object that holds `accountId`'s money. */
export function ledgerFor(env: Pick<Env, "ACCOUNT">, accountId: string) {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(accountId));
}

export type LedgerStub = ReturnType<typeof ledgerFor>;

/** A hot account's `index`-th spending shard (docs/HOT-ACCOUNTS.md). */
export function shardFor(env: Pick<Env, "SHARD">, accountId: string, index: number) {
  return env.SHARD.get(env.SHARD.idFromName(shardName(accountId, index)));
}

export type ShardStub = ReturnType<typeof shardFor>;

/** Where a call's hold lives: the account's ledger, or one of its shards. */
export type SpendStub = LedgerStub | ShardStub;
