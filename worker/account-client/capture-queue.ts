import type { ShardReserveResult } from "../../durable-objects/shard-types";
import type { ReserveInput, Settlement, SettlementOutcome } from "../../durable-objects/types";
import { rpc } from "./rpc";
import type { SpendStub } from "./stub";

/**
 * Captures on their way to an account's ledger, per isolate. A served call's capture does not
 * need a Durable Object request of its own: it waits here, off the client's path, and rides
 * with the next reserve this isolate sends to the same account (one request and one commit
 * instead of two), or goes on its own after 100 ms. Under load that halves the
 * requests per call an account's object serves, which is what bounds a hot account.
 *
 * Nothing here is money state: the hold already covers the amount (no overdraft either way),
 * a capture is safe to send twice (the ledger reports a hold it finds captured as landed; a
 * resend is always the same capture), and a capture that never lands leaves its hold to expire,
 * uncharged. The response does not wait for the capture: the origin has done the work by then,
 * so dropping the response would protect no one, and waiting would cost every call a round trip.
 * Queued items are plain data, so whichever request sends them uses its own stub; no promise
 * crosses requests.
 */

/** A capture as the ledger takes it (the object's `Settlement`): hold, amount, detail, and the response to keep. */
export type Capture = Settlement;

/**
 * How long a capture waits for a reserve to ride with, and how long a capture whose request
 * failed waits before each retry: about 20 s in all, inside the ~30 s `waitUntil` allows, so a
 * capture is lost only if the account's object stays unreachable that long (then it is logged and
 * its hold expires, uncharged). Mutable for tests only.
 */
export const captureTiming = { delayMs: 100, retryDelaysMs: [250, 1_000, 4_000, 15_000] as readonly number[] };

type Queued = Capture & { attempts: number };
/** What keeps the request alive until its captures are sent (Hono's and workerd's contexts both fit). */
export type Lifetime = { waitUntil(promise: Promise<unknown>): void };

const waiting = new Map<string, Queued[]>();
/** Accounts with a send timer set (sendLater). */
const timed = new Set<string>();

function put(accountId: string, items: readonly Queued[]): void {
  const queue = waiting.get(accountId);
  if (queue) queue.push(...items);
  else waiting.set(accountId, [...items]);
}

function take(accountId: string): Queued[] {
  const queue = waiting.get(accountId) ?? [];
  waiting.delete(accountId);
  return queue;
}

/** Captures waiting for an account in this isolate (tests and the send-before-read middleware). */
export function queuedCaptures(accountId: string): number {
  return waiting.get(accountId)?.length ?? 0;
}

/**
 * Queues a capture and keeps the request alive (`waitUntil`) until it has been sent, by a
 * reserve or by the send this schedules. A capture that ends an idempotent call's key (`keep`)
 * is sent at once: a retry of that call waits on it (409 until it lands).
 */
export function queueCapture(ctx: Lifetime, accountId: string, capture: Capture, stub: () => SpendStub): void {
  put(accountId, [{ ...capture, attempts: 0 }]);
  if (capture.keep !== undefined) ctx.waitUntil(sendQueuedCaptures(accountId, stub));
  else sendLater(ctx, accountId, stub);
}

/**
 * One send timer per account at a time: a capture queued while one is set goes with it (the
 * request that set it stays alive until then), so a busy account costs one timer per delay, not
 * one per call.
 */
function sendLater(ctx: Lifetime, accountId: string, stub: () => SpendStub): void {
  if (timed.has(accountId)) return;
  timed.add(accountId);
  const fire = async () => {
    try {
      await scheduler.wait(captureTiming.delayMs);
    } finally {
      // Whatever happens to the wait, the next capture must be able to set a timer again.
      timed.delete(accountId);
    }
    await sendQueuedCaptures(accountId, stub);
  };
  ctx.waitUntil(fire());
}

/**
 * Sends what waits for `accountId` now. After a failed request the batch waits out the next
 * retry delay of its freshest capture and goes again on a fresh stub, until every capture in it
 * has landed or used its attempts.
 */
export async function sendQueuedCaptures(accountId: string, stub: () => SpendStub): Promise<void> {
  for (;;) {
    const batch = take(accountId);
    if (batch.length === 0) return;
    try {
      report(await rpc.captureBatch(stub(), batch.map(plain)));
      return;
    } catch (err) {
      const left = retry(accountId, batch, err);
      if (left === null) return;
      await scheduler.wait(captureTiming.retryDelaysMs[left - 1] ?? 0);
    }
  }
}

/**
 * A reserve that carries the account's queued captures (the object's `settleThenReserve`), or a
 * plain reserve when none wait. If the request fails, the captures go back in the queue and this
 * request schedules their send (the sends of the requests that queued them may be done).
 */
export async function reserveCarryingCaptures(
  ctx: Lifetime,
  accountId: string,
  stub: SpendStub,
  fresh: () => SpendStub,
  input: ReserveInput,
): Promise<ShardReserveResult> {
  const batch = take(accountId);
  if (batch.length === 0) return await rpc.reserve(stub, input);
  try {
    const { settled, reserved } = await rpc.captureThenReserve(stub, batch.map(plain), input);
    report(settled);
    return reserved;
  } catch (err) {
    if (retry(accountId, batch, err) !== null) sendLater(ctx, accountId, fresh);
    throw err;
  }
}

function plain({ holdId, amount, detail, keep, refund }: Queued): Capture {
  const capture: Capture = { holdId, amount, detail };
  if (keep !== undefined) capture.keep = keep;
  if (refund !== undefined) capture.refund = refund;
  return capture;
}

/** A refused capture is not retried: the ledger said why (e.g. the hold expired first). */
function report(outcomes: readonly SettlementOutcome[]): void {
  for (const outcome of outcomes) {
    if (!outcome.ok) console.error("queued capture refused", outcome.hold_id, outcome.code);
  }
}

/**
 * Puts a failed batch back, each capture with one attempt more; a capture out of attempts (one
 * more than there are retry delays) is dropped and logged. Returns the fewest attempts among those
 * put back, which picks the next wait, or null when none are.
 */
function retry(accountId: string, batch: readonly Queued[], err: unknown): number | null {
  const maxAttempts = captureTiming.retryDelaysMs.length + 1;
  const again = batch.map((q) => ({ ...q, attempts: q.attempts + 1 })).filter((q) => q.attempts < maxAttempts);
  for (const q of batch) if (q.attempts + 1 >= maxAttempts) console.error("queued capture given up; its hold will expire", q.holdId, String(err));
  put(accountId, again);
  return again.length > 0 ? Math.min(...again.map((q) => q.attempts)) : null;
}
