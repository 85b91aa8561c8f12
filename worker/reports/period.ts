import { ApiError } from "../errors";

/** Reports cover this many days back from `to` unless `from` says otherwise. */
export const DEFAULT_PERIOD_DAYS = 30;
const DAY_MS = 86_400_000;

/** A half-open time range `[from, to)` in epoch milliseconds. */
export type Period = { from: number; to: number };

/**
 * The period a report covers: `to` is exclusive and defaults to now; `from` defaults to 30 days
 * before `to`. Inputs are ISO 8601 timestamps (or dates, read as UTC midnight) already checked by
 * the route's schema; an empty or inverted range is a 400.
 */
export function resolvePeriod(from: string | undefined, to: string | undefined, now = Date.now()): Period {
  const end = to === undefined ? now : Date.parse(to);
  const start = from === undefined ? end - DEFAULT_PERIOD_DAYS * DAY_MS : Date.parse(from);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new ApiError("invalid_request", "from/to: not a timestamp");
  if (start >= end) throw new ApiError("invalid_request", "from: must be before to (to is exclusive)");
  return { from: start, to: end };
}

export const iso = (ms: number) => new Date(ms).toISOString();
