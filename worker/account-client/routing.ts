import type { ReserveInput } from "../../durable-objects/types";

/**
 * Which object serves a call of a hot account (docs/HOT-ACCOUNTS.md), known per isolate from the
 * ledger's own answers: the parent's reserve says how many shards the account has (a plain
 * account's answer says nothing, and nothing is looked up for it), a shard's says so again and
 * sends back the keys only the parent serves. Nothing here is money state: a wrong guess costs a
 * shard's `not_here` and the call goes to the parent.
 */
const hotAccounts = new Map<string, number>();
/** Agent keys with a mandate or velocity limits: their caps are checked in one place, the parent. */
const parentKeys = new Set<string>();
/** An isolate remembers at most this many such keys; forgetting one costs one `not_here` hop. */
const MAX_PARENT_KEYS = 10_000;

/**
 * The shard (1…N) for this call, or null for the parent: a hot account's calls are spread by
 * agent key and request id; a call with an idempotency key, a pass or deferred usage, and a key
 * the shards sent back, go to the parent.
 */
export function shardOf(accountId: string, input: ReserveInput): number | null {
  const shards = hotAccounts.get(accountId);
  if (shards === undefined || input.idempotency || input.passes || input.deferredRule || parentKeys.has(input.keyHash)) return null;
  return 1 + (fnv1a(`${input.keyHash}:${input.requestId}`) % shards);
}

/** What an answer said of the account's shards (absent: a plain account). */
export function learnShards(accountId: string, shards: number | undefined): void {
  if (shards !== undefined && shards > 1) hotAccounts.set(accountId, shards);
  else if (hotAccounts.size > 0) hotAccounts.delete(accountId);
}

export function servedByParent(keyHash: string): void {
  if (parentKeys.size >= MAX_PARENT_KEYS) parentKeys.clear();
  parentKeys.add(keyHash);
}

/** Forgets what this isolate learnt (tests). */
export function forgetRoutes(): void {
  hotAccounts.clear();
  parentKeys.clear();
}

/** FNV-1a, 32 bits: a cheap, even spread of request ids (not a security boundary). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
