import { z } from "zod";

/** The largest amount Tollgate accepts: integers stay exact in JSON and JavaScript below 2^53 (I11). */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

/** A positive integer amount in micro-units. Rejects 0, negatives, fractions, NaN, ≥ 2^53, strings. */
export const PositiveAmount = z.number().int().positive().max(MAX_AMOUNT);

/** A price may be zero (a free endpoint is still metered and authorized), never negative. */
export const Price = z.number().int().nonnegative().max(MAX_AMOUNT);

/**
 * Money read from a SQL aggregate as exact text (`CAST(SUM(amount) AS TEXT)`). SQLite sums
 * integers exactly in 64 bits, but a JavaScript number above 2^53 − 1 silently rounds, so sums
 * are read as text and carried as BigInt, never through `Number()`.
 */
export function exactSum(value: unknown): bigint {
  if (value == null) return 0n;
  const text = String(value);
  if (!/^-?\d+$/.test(text)) throw new Error(`not an integer sum: ${text.slice(0, 40)}`);
  return BigInt(text);
}
