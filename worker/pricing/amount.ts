import { z } from "zod";

/** The largest amount Tollgate accepts: integers stay exact in JSON and JavaScript below 2^53 (I11). */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

/** A positive integer amount in micro-units. Rejects 0, negatives, fractions, NaN, ≥ 2^53, strings. */
export const PositiveAmount = z.number().int().positive().max(MAX_AMOUNT);

/** A price may be zero (a free endpoint is still metered and authorized), never negative. */
export const Price = z.number().int().nonnegative().max(MAX_AMOUNT);
