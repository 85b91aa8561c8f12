import { ApiError } from "../errors";

/**
 * How a failed Durable Object call is answered. workerd marks the Error a DO RPC throws:
 * `overloaded` when the object is over its limits (retrying makes it worse: shed the load), and
 * `retryable` when the failure was transient (object reset, network blip) and a *new* stub may
 * succeed — a stub that threw can stay broken. Only a call that is safe to run twice may be
 * retried: the first attempt may have landed before the error reached us.
 */

/** Seconds an agent is told to wait when its account's object is overloaded. */
export const OVERLOADED_RETRY_AFTER_S = 1;

type Flagged = { overloaded?: unknown; retryable?: unknown };

function flag(err: unknown, name: keyof Flagged): boolean {
  return typeof err === "object" && err !== null && (err as Flagged)[name] === true;
}

export function isOverloaded(err: unknown): boolean {
  return flag(err, "overloaded");
}

export function isRetryable(err: unknown): boolean {
  return flag(err, "retryable") && !flag(err, "overloaded");
}

export type LedgerCallOptions = {
  /** The call is idempotent (GET/HEAD, or the agent sent an Idempotency-Key): one retry is allowed. */
  retry: boolean;
  /** Headers for the error response (e.g. `tollgate-request-id`). */
  headers?: Record<string, string>;
  /** Names the operation in logs. */
  what?: string;
};

/** The DO failure as the agent's answer: 429 when overloaded, otherwise 503. */
function answer(err: unknown, options: LedgerCallOptions): ApiError {
  if (err instanceof ApiError) return err;
  const headers = options.headers ?? {};
  if (isOverloaded(err)) {
    const s = OVERLOADED_RETRY_AFTER_S;
    return new ApiError("rate_limited", `The account is busy; retry in ${s} s.`, { retry_after: s }, { ...headers, "retry-after": String(s) });
  }
  console.error("ledger call failed", options.what ?? "call", String(err));
  return new ApiError("ledger_unavailable", "The account's ledger did not answer; nothing was charged.", {}, headers);
}

/**
 * Runs `op` on the account's stub. An `overloaded` failure is never retried (429 with
 * Retry-After); a `retryable` one is retried once, on `fresh()`, only when `options.retry`;
 * anything else is 503. Returns the result and the stub that produced it, so later calls use a
 * stub known to work.
 */
export async function callLedger<S, T>(first: S, fresh: () => S, op: (stub: S) => Promise<T>, options: LedgerCallOptions): Promise<{ value: T; stub: S }> {
  try {
    return { value: await op(first), stub: first };
  } catch (err) {
    if (!(options.retry && isRetryable(err))) throw answer(err, options);
    console.warn("ledger call retried", options.what ?? "call", String(err));
  }
  const second = fresh();
  try {
    return { value: await op(second), stub: second };
  } catch (err) {
    throw answer(err, options);
  }
}
