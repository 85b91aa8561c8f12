import type { AutoRefund, CaptureDetail, ReserveResult, StoredResponse } from "../../durable-objects/types";
import type { AccountClient } from "./client";

type Reserved = Extract<ReserveResult, { ok: true }>;

/**
 * A call's hold, as its reserve gave it, with the ways it can end: captured (what the call
 * cost, never more than `amount`), or released (nothing charged). Its methods go through the
 * account's client, so the handler never names a stub.
 */
export class Hold {
  readonly ok = true;
  readonly id: string;
  /** What is held: the most the call may cost. */
  readonly amount: number;
  /** The account's available balance after the hold. */
  readonly available: number;
  readonly currency: string;
  /** The pass that serves the call (then `amount` is 0), or null. */
  readonly passId: string | null;

  constructor(
    private readonly client: AccountClient,
    reserved: Reserved,
    /** How long the hold lives unless extended; a streaming response extends it by this much. */
    private readonly ttlMs: number,
  ) {
    this.id = reserved.hold_id;
    this.amount = reserved.amount;
    this.available = reserved.available;
    this.currency = reserved.currency;
    this.passId = reserved.pass_id ?? null;
  }

  /**
   * Set when the call is to be refunded in full as its capture lands (the origin broke the
   * service's SLA); the capture carries it to the ledger, which writes both in one transaction.
   */
  refundOnCapture: AutoRefund | undefined;

  /** Queues the capture of `amount` (capture-queue.ts); `keep` ends an idempotent call's key with it. */
  capture(amount: number, detail: CaptureDetail, keep?: StoredResponse | null): void {
    this.client.capture(this.id, amount, detail, keep, this.refundOnCapture);
  }

  /** Releases the hold in the background: nothing is charged. */
  release(reason: string): void {
    this.client.release(this.id, reason);
  }

  /** A deferred call's key: the response to replay, or null to free it. */
  keepResponse(response: StoredResponse | null): Promise<void> {
    return this.client.keepResponse(this.id, response);
  }

  /** Waits for `work`, keeping the hold alive meanwhile, however long it takes. */
  async keptAliveDuring<T>(work: Promise<T>): Promise<T> {
    const stop = this.client.keepHoldAlive(this.id, this.ttlMs);
    try {
      return await work;
    } finally {
      stop();
    }
  }
}
