import { describe, expect, it } from "vitest";
import { legsOf, refundFeePart } from "../../core/legs";

/** Splits `amount` into random positive parts. */
function parts(amount: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  let left = amount;
  while (left > 0) {
    x = (x * 48_271) % 2_147_483_647; // Park–Miller: the product stays below 2^53
    const p = Math.min(left, 1 + (x % Math.max(1, Math.ceil(amount / 3))));
    out.push(p);
    left -= p;
  }
  return out;
}

describe("refundFeePart: a capture's fee returned in proportion", () => {
  it("over any split of a full refund, returns exactly the fee; each part within its refund; running total ≤ floor(F·R/A)", () => {
    for (const [amount, fee] of [
      [1_000, 33],
      [7, 7],
      [1, 0],
      [999_983, 12_345],
    ] as const) {
      for (let seed = 1; seed < 30; seed++) {
        let refunded = 0;
        let returned = 0;
        for (const p of parts(amount, seed)) {
          const f = refundFeePart({ amount, fee }, refunded, p);
          expect(f).toBeGreaterThanOrEqual(0);
          expect(f).toBeLessThanOrEqual(p);
          refunded += p;
          returned += f;
          expect(BigInt(returned)).toBe((BigInt(fee) * BigInt(refunded)) / BigInt(amount));
          // The legs of each refund sum to zero, one credit leg.
          const legs = legsOf("acct_x", { kind: "refund", amount: p, fee: f, provider_id: "prov_x" });
          expect(legs.reduce((n, l) => n + BigInt(l.amount), 0n)).toBe(0n);
        }
        expect(returned).toBe(fee);
      }
    }
  });

  it("is exact near 2^53, where F × R is past what a double holds", () => {
    const capture = { amount: Number.MAX_SAFE_INTEGER, fee: 2 ** 52 };
    const half = 2 ** 52;
    const first = refundFeePart(capture, 0, half);
    expect(first).toBe(Number((2n ** 52n * 2n ** 52n) / BigInt(Number.MAX_SAFE_INTEGER)));
    expect(first + refundFeePart(capture, half, capture.amount - half)).toBe(capture.fee);
  });
});
