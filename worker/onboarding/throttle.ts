import { FailureLimiter } from "../auth/throttle";

/**
 * Sign-ups per client address per hour, per isolate (best effort, like the failed-auth limiter in
 * auth/throttle.ts, whose window counter this reuses). A retry of a sign-up (the same
 * Idempotency-Key from the same client) is not counted again: it creates nothing new, and a client
 * that lost its answer must be able to get its key back even at its limit.
 */
export const SIGNUP_WINDOW_MS = 3_600_000;

const signups = new FailureLimiter(SIGNUP_WINDOW_MS);
const counted = new FailureLimiter(SIGNUP_WINDOW_MS);

/**
 * Counts one sign-up of `client` and answers 0, or the seconds it must wait (nothing counted).
 * Synchronous on purpose: the check and the count cannot interleave with another request's.
 */
export function admitSignup(client: string, idempotencyKey: string | null, limit: number, now: number): number {
  const retry = idempotencyKey === null ? null : `${client}\u0000${idempotencyKey}`;
  if (retry !== null && counted.retryAfter(retry, 1, now) > 0) return 0;
  const wait = signups.retryAfter(client, limit, now);
  if (wait > 0) return wait;
  signups.fail(client, now);
  if (retry !== null) counted.fail(retry, now);
  return 0;
}
