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

/** A UTC calendar month as `YYYY-MM` (month 01–12, four-digit year). */
export const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The UTC calendar month `YYYY-MM` as a half-open period: its first millisecond to the next month's. */
export function monthPeriod(month: string): Period {
  const m = MONTH.exec(month);
  if (!m) throw new ApiError("invalid_request", "month: expected YYYY-MM, e.g. 2026-03");
  const [year, index] = [Number(m[1]), Number(m[2]) - 1];
  return { from: utcMonthStart(year, index), to: utcMonthStart(year, index + 1) };
}

/** Date.UTC would read years 0–99 as 1900–1999; setUTCFullYear takes the year as written. */
function utcMonthStart(year: number, monthIndex: number): number {
  return new Date(0).setUTCFullYear(year, monthIndex, 1);
}

/**
 * D1 trails the ledgers by the export (about a second; a retry after a failure takes longer), so a
 * month's documents are final once it ended this long ago; before that they may still change.
 */
export const FINAL_AFTER_MS = 5 * 60_000;
export const isFinal = (period: Period, now = Date.now()) => now >= period.to + FINAL_AFTER_MS;
