/**
 * Where used nonces are remembered until their signature could no longer be accepted anyway.
 * `consume` must be atomic (check and record at once): with several origin instances, back it by
 * something they share (Redis `SET key 1 NX PXAT expiresAt`, a database row with a unique key, a
 * Durable Object), or a replay can land on an instance that has not seen the nonce.
 */
export interface ReplayStore {
  /**
   * Records `key` until `expiresAt` (Unix ms). True when it was not already recorded (the first
   * use), false when it was (a replay).
   */
  consume(key: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

const SWEEP_EVERY_MS = 10_000;

/**
 * In-process nonce memory: right for one origin process. Only requests whose signature already
 * verified reach it, so its size is bounded by genuine traffic × the signature lifetime.
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;

  consume(key: string, expiresAt: number, now: number): boolean {
    if (now >= this.nextSweep) this.sweep(now);
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.set(key, expiresAt);
    return true;
  }

  /** How many nonces are remembered (for tests and metrics). */
  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
    this.nextSweep = now + SWEEP_EVERY_MS;
  }
}
