import type { Context, MiddlewareHandler } from "hono";
import { config, type AppEnv } from "../env";
import { ApiError } from "../errors";
import { parseIpv6 } from "../services/origin-policy";

/**
 * Failed authentications per client address, per isolate: a client that keeps presenting keys
 * that do not verify (guessing, or replaying a revoked or truncated key) is told to wait, before
 * any D1 or Durable Object lookup is spent on it. Best effort: each isolate counts on its own and
 * forgets on eviction (SECURITY.md); a Durable Object or the Rate Limiting binding would count
 * across the fleet.
 */
export const WINDOW_MS = 60_000;
const MAX_CLIENTS = 10_000;

type Window = { start: number; count: number };

export class FailureLimiter {
  private readonly clients = new Map<string, Window>();

  constructor(
    private readonly windowMs = WINDOW_MS,
    private readonly maxClients = MAX_CLIENTS,
  ) {}

  /** Seconds until `client` may present a credential again; 0 when it may now. */
  retryAfter(client: string, limit: number, now: number): number {
    const w = this.clients.get(client);
    if (!w || now - w.start >= this.windowMs || w.count < limit) return 0;
    return Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
  }

  /** Counts one failed authentication of `client`. Successes are never counted (nor reset it). */
  fail(client: string, now: number): void {
    const w = this.clients.get(client);
    if (w && now - w.start < this.windowMs) {
      w.count += 1;
      return;
    }
    this.clients.delete(client);
    if (this.clients.size >= this.maxClients) this.evict(now);
    this.clients.set(client, { start: now, count: 1 });
  }

  get size(): number {
    return this.clients.size;
  }

  /** Bounded memory: expired windows go first, then the oldest. */
  private evict(now: number): void {
    for (const [client, w] of this.clients) if (now - w.start >= this.windowMs) this.clients.delete(client);
    for (const client of this.clients.keys()) {
      if (this.clients.size < this.maxClients) break;
      this.clients.delete(client);
    }
  }
}

/** The one limiter of this isolate. */
export const authFailures = new FailureLimiter();

/** The one shared bucket for requests the edge did not name a client for (local runs, tests). */
export const UNKNOWN_CLIENT = "unknown";

/**
 * Who the client is: `cf-connecting-ip`, which Cloudflare's edge sets (a client's own copy is
 * overwritten there). An IPv6 client is counted by its /64, which one subscriber usually holds
 * whole, so rotating addresses inside it buys nothing.
 */
export function clientOf(headers: Headers): string {
  const ip = headers.get("cf-connecting-ip")?.trim().toLowerCase();
  if (!ip) return UNKNOWN_CLIENT;
  if (ip.includes(":")) {
    const groups = parseIpv6(ip);
    if (groups)
      return `${groups
        .slice(0, 4)
        .map((g) => g.toString(16))
        .join(":")}::/64`;
  }
  return ip;
}

function presentsCredential(headers: Headers): boolean {
  return headers.has("authorization") || headers.has("x-api-key");
}

/**
 * Refuses (429) any credentialed request from a client over its failure budget, valid key or not:
 * checking the key first would answer the guess the limit exists to slow down.
 */
export const throttleFailedAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const headers = c.req.raw.headers;
  if (presentsCredential(headers)) {
    const wait = authFailures.retryAfter(clientOf(headers), config(c.env).AUTH_FAILURE_LIMIT, Date.now());
    if (wait > 0) {
      throw new ApiError(
        "rate_limited",
        `Too many failed authentications from this address; retry in ${wait} s.`,
        { retry_after: wait },
        { "retry-after": String(wait) },
      );
    }
  }
  await next();
};

/** From `app.onError`: every `invalid_key` answer, wherever it was decided, counts against its client. */
export function noteAuthFailure(err: Error, c: Context<AppEnv>): void {
  if (err instanceof ApiError && err.code === "invalid_key") authFailures.fail(clientOf(c.req.raw.headers), Date.now());
}
