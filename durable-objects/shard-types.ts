import type { AccountLedger } from "./account";
import type { AccountShard } from "./shard";
import type { Row } from "./sql";
import type { LedgerEnv, NotFound, ReserveResult } from "./types";

/** The bindings a hot account's objects reach each other through (docs/HOT-ACCOUNTS.md). */
export type ShardEnv = LedgerEnv & { ACCOUNT: DurableObjectNamespace<AccountLedger>; SHARD: DurableObjectNamespace<AccountShard> };

/** The most shards an account may have; 1 is a plain account. */
export const MAX_SHARDS = 64;

/** The name of a hot account's `index`-th shard object (1-based). */
export function shardName(accountId: string, index: number): string {
  return `${accountId}#shard-${index}`;
}

/** A reserve's answer with the account's shard count when it is hot (the Worker routes by it). */
export type Routed<T> = T & { shards?: number };

/**
 * A shard does not serve this call: the key has a mandate or velocity limits (exact, so served by
 * the parent), the call needs the parent (an idempotency key, a pass, deferred usage), or the shard
 * is closed (never opened, or beyond the account's shard count). The Worker sends it to the parent.
 */
export type NotHere = { ok: false; code: "not_here"; reason: "restricted_key" | "parent_only" | "closed"; shards: number };

export type ShardReserveResult = Routed<ReserveResult> | NotHere;

/**
 * What a shard tells its parent: its journal rows after the parent's cursor (captures and
 * their refunds, in seq order) and all it has handed back so far. Cumulative, so a report
 * delivered twice or late changes nothing the second time.
 */
export type ShardReport = { index: number; rows: Row[]; returned: number };

/** What the parent tells a shard after a grant or a report: cumulative, like the report. */
export type LeaseState = { granted: number; rolledSeq: number; shards: number; frozen: boolean; version: number };

/** The parent's configuration of a shard: who it is, and the switches every shard must obey at once. */
export type ShardConfig = LeaseState & { accountId: string; index: number; currency: string };

/** A shard asks for `want`, and needs at least `need` to serve the call it holds (0: ahead of need). */
export type LeaseRequest = { index: number; need: number; want: number };

/** A key as a shard may copy it: null when not live; `restricted` when only the parent serves it. */
export type KeyCopy = { version: number; key: Row | null; restricted: boolean };

export type SetShardsResult = { ok: true; shards: number } | NotFound | { ok: false; code: "invalid_shards" };
