import { describe, expect, it } from "vitest";
import { chargeAtHeaders, cost, measuredCost, PriceRule, PriceRules, quote, settlement } from "../../core/pricing/rules";
import { M, tokensRule } from "./metering-fixtures";

describe("pricing rules with meters", () => {
  const issues = (rule: unknown) => {
    const result = PriceRule.safeParse(rule);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("accepts each meter's well-formed rule", () => {
    const ok = [
      { per_call: 2000 },
      { match: { method: "POST", path: "/v1/*" }, meter: "tokens", format: "anthropic", input: { amount: 3 * M, per: M }, hold: 1 },
      { meter: "tokens", output: { amount: 1, per: 1 }, per_call: 5, hold: 5, on_failure: "none" },
      { meter: "bytes", rate: { amount: 1, per: 1024 }, hold: 100 },
      { meter: "seconds", rate: { amount: 10, per: 1000 }, increment_ms: 100, hold: 100 },
      { meter: "units", rate: { amount: 250, per: 1 }, deferred: true, hold: 100 },
    ];
    for (const rule of ok) expect(issues(rule), JSON.stringify(rule)).toEqual([]);
    expect(PriceRule.parse({ per_call: 1 }).match).toEqual({});
  });

  it("refuses inconsistent rules, naming the field", () => {
    const cases: [unknown, string][] = [
      [{}, "per_call: required when the rule has no meter"],
      [{ per_call: 1, hold: 5 }, "hold: only for a rule with a meter"],
      [{ per_call: 1, format: "openai" }, "format: only for a rule with a meter"],
      [{ per_call: 1, on_failure: "none" }, "on_failure: only for a rule with a meter"],
      [{ meter: "tokens", input: { amount: 1, per: 1 } }, "hold: required with a meter: the most one call may cost"],
      [{ meter: "tokens", per_call: 10, input: { amount: 1, per: 1 }, hold: 5 }, "hold: must not be less than per_call"],
      [{ meter: "tokens", hold: 5 }, "input: a tokens meter needs an input or output rate"],
      [{ meter: "tokens", cached_input: { amount: 1, per: 1 }, hold: 5 }, "input: a tokens meter needs an input or output rate"],
      [{ meter: "tokens", input: { amount: 1, per: 1 }, rate: { amount: 1, per: 1 }, hold: 5 }, "rate: tokens are priced with input/output/cached_input"],
      [{ meter: "bytes", hold: 5 }, "rate: a bytes meter needs a rate"],
      [{ meter: "bytes", rate: { amount: 1, per: 1 }, input: { amount: 1, per: 1 }, hold: 5 }, "input: only for a tokens meter"],
      [{ meter: "seconds", rate: { amount: 1, per: 1 }, format: "openai", hold: 5 }, "format: only for a tokens meter"],
      [{ meter: "bytes", rate: { amount: 1, per: 1 }, increment_ms: 10, hold: 5 }, "increment_ms: only for a seconds meter"],
      [{ meter: "seconds", rate: { amount: 1, per: 1 }, deferred: true, hold: 5 }, "deferred: only for a units meter"],
    ];
    for (const [rule, message] of cases) expect(issues(rule), JSON.stringify(rule)).toContain(message);
  });

  it("refuses malformed fields and unknown keys", () => {
    expect(PriceRule.safeParse({ meter: "tokens", input: { amount: 1, per: 0 }, hold: 5 }).success).toBe(false);
    expect(PriceRule.safeParse({ meter: "tokens", input: { amount: -1, per: 1 }, hold: 5 }).success).toBe(false);
    expect(PriceRule.safeParse({ meter: "tokens", input: { amount: 1, per: 1, extra: 1 }, hold: 5 }).success).toBe(false);
    expect(PriceRule.safeParse({ meter: "watts", rate: { amount: 1, per: 1 }, hold: 5 }).success).toBe(false);
    expect(PriceRule.safeParse({ meter: "bytes", rate: { amount: 1, per: 1 }, hold: 0 }).success).toBe(false);
    expect(PriceRule.safeParse({ meter: "tokens", format: "gemini", input: { amount: 1, per: 1 }, hold: 5 }).success).toBe(false);
    expect(PriceRules.safeParse([]).success).toBe(false);
  });

  it("cost is ⌈units × amount ÷ per⌉, exact past 2^53", () => {
    expect(cost(13, { amount: 150_000, per: M })).toBe(2n);
    expect(cost(20, { amount: 150_000, per: M })).toBe(3n);
    expect(cost(0, { amount: 5, per: 1 })).toBe(0n);
    expect(cost(10, undefined)).toBe(0n);
    const big = Number.MAX_SAFE_INTEGER;
    expect(cost(big, { amount: big, per: big })).toBe(BigInt(big));
    expect(cost(big, { amount: 3, per: 2 })).toBe((BigInt(big) * 3n + 1n) / 2n);
  });

  it("quote: the full hold, lowered by a request's bound for tokens only, never raised", () => {
    expect(quote(PriceRule.parse({ per_call: 700 }))).toBe(700);
    expect(quote(tokensRule)).toBe(200_000);
    expect(quote(tokensRule, null)).toBe(200_000);
    // Input at the dearer of input (0.15) and cached (0.075): ⌈500 × 0.15⌉ = 75, ⌈100 × 0.6⌉ = 60.
    expect(quote(tokensRule, { inputTokens: 500, outputTokens: 100 })).toBe(135);
    const dearCache = PriceRule.parse({ ...tokensRule, cached_input: { amount: 1_000_000, per: M } });
    expect(quote(dearCache, { inputTokens: 500, outputTokens: 100 })).toBe(560);
    expect(quote(PriceRule.parse({ ...tokensRule, per_call: 1000 }), { inputTokens: 500, outputTokens: 100 })).toBe(1135);
    expect(quote(tokensRule, { inputTokens: 10 ** 9, outputTokens: 10 ** 9 })).toBe(200_000);
    const bytes = PriceRule.parse({ meter: "bytes", rate: { amount: 1, per: 1 }, hold: 300 });
    expect(quote(bytes, { inputTokens: 1, outputTokens: 1 })).toBe(300);
  });

  it("measuredCost prices each meter, plus per_call", () => {
    // 13 × 0.15 → 2, 20 cached × 0.075 → 2, 40 × 0.6 → 24.
    expect(measuredCost(tokensRule, { input_tokens: 13, cached_input_tokens: 20, output_tokens: 40 })).toBe(28n);
    // Without a cached rate, cached input is priced at the input rate: ⌈20 × 0.15⌉ = 3.
    const noCache = PriceRule.parse({ meter: "tokens", input: { amount: 150_000, per: M }, output: { amount: 600_000, per: M }, hold: 9 });
    expect(measuredCost(noCache, { input_tokens: 13, cached_input_tokens: 20, output_tokens: 40 })).toBe(29n);
    expect(measuredCost(tokensRule, {})).toBe(0n);
    const perCall = PriceRule.parse({ meter: "bytes", per_call: 100, rate: { amount: 1, per: 100 }, hold: 1000 });
    expect(measuredCost(perCall, { bytes: 5001 })).toBe(151n);
    // 1234 ms rounded up to 500 ms steps = 1500 ms at 10 per second.
    const seconds = PriceRule.parse({ meter: "seconds", rate: { amount: 10, per: 1000 }, increment_ms: 500, hold: 1000 });
    expect(measuredCost(seconds, { ms: 1234 })).toBe(15n);
    expect(measuredCost(seconds, { ms: 0 })).toBe(0n);
    const units = PriceRule.parse({ meter: "units", rate: { amount: 250, per: 1 }, hold: 1000 });
    expect(measuredCost(units, { units: 7 })).toBe(1750n);
    expect(measuredCost(PriceRule.parse({ per_call: 42 }), { units: 7 })).toBe(42n);
  });

  it("settlement captures at most the hold and records the rest as shortfall", () => {
    const units = PriceRule.parse({ meter: "units", per_call: 100, rate: { amount: 250, per: 1 }, hold: 5000 });
    expect(settlement(units, { units: 7 }, 5000)).toEqual({ amount: 1850, shortfall: 0 });
    expect(settlement(units, { units: 40 }, 5000)).toEqual({ amount: 5000, shortfall: 5100 });
    // A bounded hold below the rule's: the capture stops at what was held.
    expect(settlement(units, { units: 40 }, 1000)).toEqual({ amount: 1000, shortfall: 9100 });
    expect(settlement(units, { units: Number.MAX_SAFE_INTEGER }, 5000)).toEqual({ amount: 5000, shortfall: Number.MAX_SAFE_INTEGER });
    expect(settlement(tokensRule, {}, 200_000)).toEqual({ amount: 0, shortfall: 0 });
  });

  it("chargeAtHeaders: per-call and header units, not streamed or deferred meters", () => {
    expect(chargeAtHeaders(PriceRule.parse({ per_call: 1 }))).toBe(true);
    expect(chargeAtHeaders(PriceRule.parse({ meter: "units", rate: { amount: 1, per: 1 }, hold: 1 }))).toBe(true);
    expect(chargeAtHeaders(PriceRule.parse({ meter: "units", rate: { amount: 1, per: 1 }, deferred: true, hold: 1 }))).toBe(false);
    expect(chargeAtHeaders(tokensRule)).toBe(false);
    expect(chargeAtHeaders(PriceRule.parse({ meter: "bytes", rate: { amount: 1, per: 1 }, hold: 1 }))).toBe(false);
  });
});
