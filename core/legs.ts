/** The ledger account that stands for the outside world: money entering (top-ups) and leaving (payouts). */
export const EXTERNAL = "external";
/** The ledger account that collects platform fees. */
export const PLATFORM = "platform";
/**
 * The platform's compensation account: it credits a payer at once when a dispute says an agent
 * spent without authority, and is repaid from the provider's earnings when the payer wins.
 */
export const COMPENSATION = "compensation";

export type Leg = { ledgerAccount: string; amount: number };

/**
 * The double-entry legs of a journal transfer; they always sum to zero (I1). Credits (+) and
 * debits (−) are signed amounts. A zero fee leg is left out.
 */
/** What the legs of a transfer depend on (a journal transfer has these fields, among others). */
export type LegSource = {
  kind: "credit" | "capture" | "refund" | "compensation" | "repayment" | "tip";
  amount: number;
  fee: number;
  provider_id: string | null;
};

export function legsOf(accountId: string, t: LegSource): Leg[] {
  switch (t.kind) {
    case "credit":
      return [
        { ledgerAccount: EXTERNAL, amount: -t.amount },
        { ledgerAccount: accountId, amount: t.amount },
      ];
    // A tip moves money like a charge: the payer pays, the provider earns it (less a fee, if any).
    case "tip":
    case "capture": {
      const legs: Leg[] = [
        { ledgerAccount: accountId, amount: -t.amount },
        { ledgerAccount: t.provider_id ?? PLATFORM, amount: t.amount - t.fee },
      ];
      if (t.fee > 0) legs.push({ ledgerAccount: PLATFORM, amount: t.fee });
      return legs;
    }
    case "refund": {
      // The capture's legs reversed for `amount`: `fee` is the share of the capture's fee it
      // returns (see refundFeePart), so the provider gives back only what it was paid.
      const legs: Leg[] = [
        { ledgerAccount: accountId, amount: t.amount },
        { ledgerAccount: t.provider_id ?? PLATFORM, amount: -(t.amount - t.fee) },
      ];
      if (t.fee > 0) legs.push({ ledgerAccount: PLATFORM, amount: -t.fee });
      return legs;
    }
    case "compensation":
      return [
        { ledgerAccount: COMPENSATION, amount: -t.amount },
        { ledgerAccount: accountId, amount: t.amount },
      ];
    case "repayment":
      return [
        { ledgerAccount: accountId, amount: -t.amount },
        { ledgerAccount: COMPENSATION, amount: t.amount },
      ];
  }
}

/** A payout's legs: money leaves the provider's balance for the outside world. */
export function payoutLegs(providerId: string, amount: number): Leg[] {
  return [
    { ledgerAccount: providerId, amount: -amount },
    { ledgerAccount: EXTERNAL, amount },
  ];
}

/**
 * The part of a capture's fee that a refund returns. Fee is returned in proportion to the amount,
 * rounded down on the running total: after refunds totalling R of a capture of A with fee F, the
 * fee returned is floor(F × R / A). So each refund's part is floor(F(R' + a)/A) − floor(F·R'/A)
 * (R' what was refunded before it), the parts never sum past F, and a full refund returns F exactly.
 * BigInt: F × R can pass 2^53.
 */
export function refundFeePart(capture: { amount: number; fee: number }, refundedBefore: number, amount: number): number {
  const [a, f] = [BigInt(capture.amount), BigInt(capture.fee)];
  if (a === 0n) return 0;
  const upTo = (r: number) => (f * BigInt(r)) / a;
  return Number(upTo(refundedBefore + amount) - upTo(refundedBefore));
}
