import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_AMOUNT, PositiveAmount, Price } from "../../core/pricing/amount";
import { platformFee } from "../../core/pricing/fees";
import { globMatch, matchRule, PriceRule, quote } from "../../core/pricing/rules";

const rule = (input: unknown) => PriceRule.parse(input);

describe("matchRule", () => {
  const rules = [
    rule({ match: { method: "POST", path: "/v1/chat/*" }, per_call: 30 }),
    rule({ match: { path: "/v1/chat/*" }, per_call: 20 }),
    rule({ match: { method: "DELETE" }, per_call: 5 }),
    rule({ match: { path: "/exact" }, per_call: 7 }),
  ];

  it("takes the first rule that fits, in order", () => {
    expect(matchRule(rules, "POST", "/v1/chat/completions")).toBe(rules[0]);
    expect(matchRule(rules, "GET", "/v1/chat/completions")).toBe(rules[1]);
    expect(matchRule(rules, "DELETE", "/v1/chat/x")).toBe(rules[1]);
    expect(matchRule(rules, "DELETE", "/anything")).toBe(rules[2]);
    expect(matchRule([rules[1]!, rules[0]!], "POST", "/v1/chat/x")).toBe(rules[1]);
  });

  it("compares the method exactly", () => {
    expect(matchRule([rules[2]!], "delete", "/a")).toBeNull();
    expect(matchRule([rules[2]!], "DELETEX", "/a")).toBeNull();
    expect(matchRule([rules[2]!], "DELETE", "/a")).toBe(rules[2]);
  });

  it("lets `*` span '/' and match an empty run", () => {
    expect(matchRule(rules, "GET", "/v1/chat/")).toBe(rules[1]);
    expect(matchRule(rules, "GET", "/v1/chat/a/b/c")).toBe(rules[1]);
    expect(matchRule(rules, "GET", "/v1/chat")).toBeNull();
    expect(matchRule(rules, "GET", "/v1/chatx")).toBeNull();
  });

  it("matches a path without `*` exactly", () => {
    expect(matchRule(rules, "GET", "/exact")).toBe(rules[3]);
    expect(matchRule(rules, "GET", "/exact/")).toBeNull();
    expect(matchRule(rules, "GET", "/exac")).toBeNull();
    expect(matchRule(rules, "GET", "/EXACT")).toBeNull();
  });

  it("returns null when no rule fits, and for no rules at all", () => {
    expect(matchRule(rules, "GET", "/other")).toBeNull();
    expect(matchRule([], "GET", "/")).toBeNull();
  });

  it("a rule without `match` fits every call", () => {
    const catchAll = rule({ per_call: 1 });
    expect(catchAll.match).toEqual({});
    expect(matchRule([catchAll], "PATCH", "/x/y")).toBe(catchAll);
    expect(matchRule([...rules, catchAll], "GET", "/other")).toBe(catchAll);
  });

  it("quote of a per-call rule is its price", () => {
    expect(quote(rule({ per_call: 1234 }))).toBe(1234);
    expect(quote(rule({ per_call: 0 }))).toBe(0);
  });
});

/** The reference: `*` is `[\s\S]*`, everything else literal, anchored at both ends. */
function globRegex(pattern: string): RegExp {
  const body = pattern
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
    .join("[\\s\\S]*");
  return new RegExp(`^${body}$`);
}

const chars = (alphabet: string[], maxLength: number) => fc.string({ unit: fc.constantFrom(...alphabet), maxLength });

describe("globMatch", () => {
  it("spot checks", () => {
    expect(globMatch("", "")).toBe(true);
    expect(globMatch("", "a")).toBe(false);
    expect(globMatch("*", "")).toBe(true);
    expect(globMatch("a*b", "ab")).toBe(true);
    expect(globMatch("a*b", "a/x/b")).toBe(true);
    expect(globMatch("a*b", "a/x/bc")).toBe(false);
    expect(globMatch("*a*a*", "aa")).toBe(true);
    expect(globMatch("*a*a*", "a/b")).toBe(false);
    expect(globMatch("a**", "a")).toBe(true);
    expect(globMatch("/a/*/c", "/a/b/b/c")).toBe(true);
    expect(globMatch("/a/*/c", "/a/c")).toBe(false);
    expect(globMatch(".", "x")).toBe(false);
  });

  it("a pattern without `*` matches exactly its own text", () => {
    fc.assert(
      fc.property(chars(["a", "b", "/", ".", "%"], 20), chars(["a", "b", "/", ".", "%"], 20), (p, t) => {
        expect(globMatch(p, p)).toBe(true);
        expect(globMatch(p, t)).toBe(p === t);
      }),
    );
  });

  it("`*` matches everything", () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (t) => globMatch("*", t) && globMatch("**", t)));
  });

  it("agrees with a regular-expression reference on random patterns", () => {
    fc.assert(
      fc.property(chars(["a", "b", "/", "*"], 12), chars(["a", "b", "/", "*"], 16), (p, t) => {
        expect(globMatch(p, t)).toBe(globRegex(p).test(t));
      }),
      { numRuns: 5_000 },
    );
  });

  it("prefix and suffix patterns behave like startsWith / endsWith", () => {
    fc.assert(
      fc.property(chars(["a", "b", "/"], 10), chars(["a", "b", "/"], 20), (p, t) => {
        expect(globMatch(`${p}*`, t)).toBe(t.startsWith(p));
        expect(globMatch(`*${p}`, t)).toBe(t.endsWith(p));
        expect(globMatch(`*${p}*`, t)).toBe(t.includes(p));
      }),
    );
  });

  it("stays linear-ish on a pattern that makes backtracking regexes explode", () => {
    const text = "a".repeat(20_000);
    expect(globMatch(`${"*a".repeat(40)}*b`, text)).toBe(false);
    expect(globMatch(`${"*a".repeat(40)}*`, text)).toBe(true);
  });
});

describe("platformFee", () => {
  it("rounds down, never in the platform's favour", () => {
    expect(platformFee(10_000, 250)).toBe(250);
    expect(platformFee(9_999, 250)).toBe(249);
    expect(platformFee(40, 250)).toBe(1);
    expect(platformFee(39, 250)).toBe(0);
    expect(platformFee(1, 9_999)).toBe(0);
    expect(platformFee(0, 5_000)).toBe(0);
  });

  it("bps 0 takes nothing and bps 10000 takes everything", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_AMOUNT }), (a) => {
        expect(platformFee(a, 0)).toBe(0);
        expect(platformFee(a, 10_000)).toBe(a);
      }),
    );
  });

  it("is exact near 2^53, where float math is not", () => {
    // Math.floor(a * b / 10000) gives 9007199254740990 and 7004898860412068 here.
    expect(platformFee(MAX_AMOUNT, 10_000)).toBe(9_007_199_254_740_991);
    expect(platformFee(MAX_AMOUNT - 1, 7_777)).toBe(7_004_898_860_412_067);
    expect(platformFee(2 ** 52 + 1, 9_999)).toBe(4_503_149_267_407_759);
    expect(platformFee(MAX_AMOUNT, 1)).toBe(900_719_925_474);
  });

  it("equals floor(amount × bps / 10000) and leaves the provider amount − fee ≥ 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_AMOUNT }), fc.integer({ min: 0, max: 10_000 }), (a, bps) => {
        const fee = platformFee(a, bps);
        expect(BigInt(fee)).toBe((BigInt(a) * BigInt(bps)) / 10_000n);
        expect(Number.isSafeInteger(fee)).toBe(true);
        expect(fee).toBeGreaterThanOrEqual(0);
        expect(fee).toBeLessThanOrEqual(a);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("amounts (I11)", () => {
  const bad: [string, unknown][] = [
    ["0", 0],
    ["-1", -1],
    ["1.5", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["2^53", 2 ** 53],
    ["2^53 + 1", 2 ** 53 + 1],
    ["the string '1'", "1"],
    ["the string '100'", "100"],
    ["a bigint", 1n],
    ["null", null],
    ["undefined", undefined],
    ["-0.5", -0.5],
  ];

  it.each(bad)("PositiveAmount rejects %s", (_name, value) => {
    expect(PositiveAmount.safeParse(value).success).toBe(false);
  });

  it.each(bad.filter(([name]) => name !== "0"))("Price rejects %s", (_name, value) => {
    expect(Price.safeParse(value).success).toBe(false);
  });

  it("accepts the positive integers below 2^53", () => {
    expect(PositiveAmount.parse(1)).toBe(1);
    expect(PositiveAmount.parse(2 ** 53 - 1)).toBe(MAX_AMOUNT);
    expect(Price.parse(0)).toBe(0);
    expect(Price.parse(MAX_AMOUNT)).toBe(MAX_AMOUNT);
    fc.assert(fc.property(fc.integer({ min: 1, max: MAX_AMOUNT }), (n) => PositiveAmount.safeParse(n).success));
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        const ok = Number.isInteger(x) && x >= 1 && x <= MAX_AMOUNT;
        expect(PositiveAmount.safeParse(x).success).toBe(ok);
      }),
    );
  });
});
