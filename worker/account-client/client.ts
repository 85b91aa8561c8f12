import type { AutoRefund, CaptureDetail, ReserveInput, Settlement, StoredResponse } from "../../durable-objects/types";
import type { Env } from "../env";
import { type Lifetime, queueCapture, reserveCarryingCaptures } from "./capture-queue";
import { callLedger } from "./failures";
import { Hold } from "./hold";
import type { ReserveRefusal } from "./refusals";
import { rpc } from "./rpc";
import { ledgerFor, type LedgerStub } from "./stub";
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
  /** The stub last known to work: after a reserve, the one that answered it. */
  private stub: LedgerStub;
  /** A new stub: one that threw can stay broken. */
  readonly fresh = (): LedgerStub => ledgerFor(this.env, this.accountId);

  constructor(
    private readonly env: Pick<Env, "ACCOUNT">,
    private readonly ctx: Lifetime,
    readonly accountId: string,
  ) {
    this.stub = this.fresh();
  }

  /**
   * Holds what the call may cost. `retry`: running the reserve twice is harmless (a GET/HEAD, whose
   * second hold just expires, or a keyed call, whose key the ledger sees), so a transient failure
   * is retried once on a new stub. A failing object is an ApiError (429 when overloaded, else 503).
   */
  async reserve(input: ReserveInput, retry: boolean): Promise<Reservation> {
    const reserve = (stub: LedgerStub) => reserveCarryingCaptures(this.ctx, this.accountId, stub, this.fresh, input);
    const { value, stub } = await callLedger(this.stub, this.fresh, reserve, { retry, what: "reserve" });
    this.stub = stub;
    return value.ok ? new Hold(this, value, input.ttlMs) : value;
  }

  /**
   * Queues a served call's capture: it rides with the account's next reserve, or goes within 100 ms.
   * `refund`: the ledger refunds it in full in the capture's transaction (an SLA breach).
   */
  capture(holdId: string, amount: number, detail: CaptureDetail, keep?: StoredResponse | null, refund?: AutoRefund): void {
    const capture: Settlement = { holdId, amount, detail };
    if (keep !== undefined) capture.keep = keep;
    if (refund !== undefined) capture.refund = refund;
    queueCapture(this.ctx, this.accountId, capture, this.fresh);
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
