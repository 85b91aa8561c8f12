import type { AutoRefund, CaptureDetail, ReserveInput, Settlement, StoredResponse } from "../../durable-objects/types";
import type { Env } from "../env";
import { type Lifetime, queueCapture, reserveCarryingCaptures } from "./capture-queue";
import { callLedger } from "./failures";
import { Hold } from "./hold";
import type { ReserveRefusal } from "./refusals";
import { learnShards, servedByParent, shardOf } from "./routing";
import { rpc } from "./rpc";
import { ledgerFor, shardFor, type SpendStub } from "./stub";
import { keepHoldAlive, keepResponse } from "./upkeep";

/** A reserve's answer: the hold, a refusal (refusals.ts), or the first call's response to replay. */
export type Reservation = Hold | ReserveRefusal | { ok: false; code: "idempotency_replay"; response: StoredResponse };

/**
 * The Worker's side of one account's ledger, for one request: it owns the stub (and a new one
 * when a stub fails, failures.ts) and the request's lifetime (`waitUntil`), so a caller asks
 * for what it wants done, not how to reach the object:
 *
 * - `reserve`, carrying the account's queued captures (one round trip per call);
 * - `capture`, queued off the client's path (capture-queue.ts);
 * - `release`, `keepResponse` and `keepHoldAlive` for a hold (also on the `Hold` reserve gives).
 *
 * A read of the account sends what the queue holds first (`sendQueuedCaptures`, capture-queue.ts;
 * the app's middleware), without a client: it needs no request lifetime.
 */
export class AccountClient {
  /** The stub last known to work: after a reserve, the one that answered it (a hot account's shard, or its ledger). */
  private stub: SpendStub;
  /** A new stub of the same object: one that threw can stay broken. */
  fresh = (): SpendStub => ledgerFor(this.env, this.accountId);
  /** The capture queue of the object that holds this request's hold. */
  private queue: string;

  constructor(
    private readonly env: Pick<Env, "ACCOUNT" | "SHARD">,
    private readonly ctx: Lifetime,
    readonly accountId: string,
  ) {
    this.stub = this.fresh();
    this.queue = accountId;
  }

  /**
   * Holds what the call may cost. `retry`: running the reserve twice is harmless (a GET/HEAD, whose
   * second hold just expires, or a keyed call, whose key the ledger sees), so a transient failure
   * is retried once on a new stub. A failing object is an ApiError (429 when overloaded, else 503).
   */
  async reserve(input: ReserveInput, retry: boolean): Promise<Reservation> {
    const shard = shardOf(this.accountId, input);
    if (shard !== null) {
      const served = await this.reserveOnShard(shard, input, retry);
      if (served) return served;
    }
    const reserve = (stub: SpendStub) => reserveCarryingCaptures(this.ctx, this.accountId, stub, this.fresh, input);
    const { value, stub } = await callLedger(this.stub, this.fresh, reserve, { retry, what: "reserve" });
    this.stub = stub;
    learnShards(this.accountId, value.shards);
    if (value.ok) return new Hold(this, value, input.ttlMs);
    if (value.code === "not_here") throw new Error("the account's ledger answered as a shard");
    return value;
  }

  /**
   * A hot account's call on one of its shards (docs/HOT-ACCOUNTS.md). Null: the parent serves it
   * instead — the shard sent it back (a key only the parent serves, a closed shard) or failed (a
   * hold it may have made unseen expires, uncharged). A shard's refusal for want of money is
   * final: it asked the parent, which took back the other shards' unheld leases first.
   */
  private async reserveOnShard(index: number, input: ReserveInput, retry: boolean): Promise<Reservation | null> {
    const fresh = () => shardFor(this.env, this.accountId, index);
    const queue = `${this.accountId}#${index}`;
    const reserve = (stub: SpendStub) => reserveCarryingCaptures(this.ctx, queue, stub, fresh, input);
    let answer: Awaited<ReturnType<typeof reserve>>;
    let stub: SpendStub;
    try {
      ({ value: answer, stub } = await callLedger(fresh(), fresh, reserve, { retry, what: "reserve on a shard" }));
    } catch {
      return null;
    }
    learnShards(this.accountId, answer.shards);
    if (answer.ok) {
      [this.stub, this.fresh, this.queue] = [stub, fresh, queue];
      return new Hold(this, answer, input.ttlMs);
    }
    if (answer.code === "not_here") {
      if (answer.reason === "restricted_key") servedByParent(input.keyHash);
      return null;
    }
    // insufficient_funds included: the shard asked the parent, which recalled the other shards first.
    return answer;
  }

  /**
   * Queues a served call's capture: it rides with the account's next reserve, or goes within 100 ms.
   * `refund`: the ledger refunds it in full in the capture's transaction (an SLA breach).
   */
  capture(holdId: string, amount: number, detail: CaptureDetail, keep?: StoredResponse | null, refund?: AutoRefund): void {
    const capture: Settlement = { holdId, amount, detail };
    if (keep !== undefined) capture.keep = keep;
    if (refund !== undefined) capture.refund = refund;
    queueCapture(this.ctx, this.queue, capture, this.fresh);
  }

  /**
   * Releases a hold, nothing charged, in the background. If the request fails the hold is not
   * lost: it expires, uncharged.
   */
  release(holdId: string, reason: string): void {
    const released = rpc.release(this.stub, holdId, reason).catch((err: unknown) => {
      console.error("releasing a hold failed; it will expire", holdId, reason, String(err));
    });
    this.ctx.waitUntil(released);
  }

  /** Gives an idempotent call's key its final state (upkeep.ts); retried on a new stub. */
  keepResponse(holdId: string, response: StoredResponse | null): Promise<void> {
    return keepResponse(this.stub, this.fresh, holdId, response);
  }

  /** Extends the hold while a response streams (upkeep.ts); returns the function that stops it. */
  keepHoldAlive(holdId: string, ttlMs: number): () => void {
    return keepHoldAlive(this.stub, this.fresh, holdId, ttlMs);
  }
}
