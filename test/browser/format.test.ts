/** The dashboard's money text: micro-units in and out as exact decimals, never through a float. */
import { describe, expect, it } from "vitest";
import { money, parseAmount } from "../../worker/dashboard/format.ts";

describe("dashboard amounts", () => {
  it("shows micro-units as decimals, at least two places, grouped, with a real minus", () => {
    expect(money(0, "USD")).toBe("0.00 USD");
    expect(money(1)).toBe("0.000001");
    expect(money(1_250_000, "USD")).toBe("1.25 USD");
    expect(money(1_234_567)).toBe("1.234567");
    expect(money(-3_750_000, "EUR")).toBe("−3.75 EUR");
    expect(money(9_007_199_254_740_991)).toBe("9,007,199,254.740991");
  });

  it("reads typed amounts exactly, refuses what is not one, and round-trips", () => {
    expect(parseAmount("")).toBeNull();
    expect(parseAmount("  ")).toBeNull();
    expect(parseAmount("10")).toBe(10_000_000);
    expect(parseAmount("0.1")).toBe(100_000);
    expect(parseAmount("2.000001")).toBe(2_000_001);
    expect(parseAmount("1,000.50")).toBe(1_000_500_000);
    for (const bad of ["-1", "1.0000001", "1e3", "abc", "1.", ".5", "0x10"]) expect(parseAmount(bad), bad).toBeUndefined();
    for (const micro of [1, 999_999, 1_000_000, 123_456_789]) expect(parseAmount(money(micro))).toBe(micro);
  });
});
