/** Basis points in one whole. */
const BPS = 10_000n;

/**
 * The platform's share of a captured amount, rounded down so the provider is never shorted by
 * rounding. BigInt because `amount × bps` can pass 2^53 even when both fit.
 */
export function platformFee(amount: number, feeBps: number): number {
  return Number((BigInt(amount) * BigInt(feeBps)) / BPS);
}
