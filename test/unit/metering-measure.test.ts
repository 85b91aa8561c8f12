import { describe, expect, it } from "vitest";
import { PriceRule } from "../../core/pricing/rules";
import type { Delivery } from "../../worker/metering/tap";
import { measure, unitsFromHeader } from "../../worker/metering/usage";
import { anthropicStream, chatStream, meterOf, tokensRule } from "./metering-fixtures";

describe("measure", () => {
  const delivery = (outcome: Delivery["outcome"], docs: unknown[] | null, extra: Partial<Delivery> = {}): Delivery => ({
    outcome,
    bytes: 1234,
    ms: 850,
    tokens: docs ? meterOf(docs) : null,
    ...extra,
  });
  const rule = (meter: string, extra: Record<string, unknown> = {}) => PriceRule.parse({ meter, rate: { amount: 1, per: 1 }, hold: 1000, ...extra });

  it("bytes and seconds come from the delivery, never estimated", () => {
    expect(measure(rule("bytes"), delivery("complete", null), 99)).toEqual({ usage: { bytes: 1234 }, estimated: false });
    expect(measure(rule("seconds"), delivery("client_disconnected", null), 99)).toEqual({ usage: { ms: 850 }, estimated: false });
    expect(measure(rule("units"), delivery("complete", null), 99)).toEqual({ usage: {}, estimated: false });
  });

  it("tokens: a complete call with a full report is billed as reported", () => {
    expect(measure(tokensRule, delivery("complete", chatStream), 400)).toEqual({
      usage: { input_tokens: 20, cached_input_tokens: 0, output_tokens: 2 },
      estimated: false,
    });
    expect(measure(tokensRule, delivery("complete", anthropicStream), 400)).toEqual({
      usage: { input_tokens: 472, cached_input_tokens: 64, output_tokens: 89 },
      estimated: false,
    });
  });

  it("tokens: a complete call without a report is estimated from the request's bytes and the text", () => {
    // 401 request bytes → 101 input; "Hello!" (6 characters) → 2 output.
    expect(measure(tokensRule, delivery("complete", chatStream.slice(0, 3)), 401)).toEqual({
      usage: { input_tokens: 101, cached_input_tokens: 0, output_tokens: 2 },
      estimated: true,
    });
    expect(measure(tokensRule, delivery("complete", null), 8)).toEqual({
      usage: { input_tokens: 2, cached_input_tokens: 0, output_tokens: 0 },
      estimated: true,
    });
  });

  it("tokens: a client that leaves is billed reported input and at least the output delivered", () => {
    const cut = [...anthropicStream.slice(0, 5)]; // message_start (output 1) and "Hello!"
    expect(measure(tokensRule, delivery("client_disconnected", cut), 5000)).toEqual({
      usage: { input_tokens: 472, cached_input_tokens: 64, output_tokens: 2 },
      estimated: true,
    });
    // A long text delivered past a small partial count: the text wins.
    const long = [anthropicStream[0], { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "x".repeat(400) } }];
    expect(measure(tokensRule, delivery("origin_failed", long), 5000).usage.output_tokens).toBe(100);
    // A partial count above the text's estimate is kept.
    const counted = [anthropicStream[0], { type: "message_delta", delta: {}, usage: { output_tokens: 50 } }];
    expect(measure(tokensRule, delivery("client_disconnected", counted), 5000).usage.output_tokens).toBe(50);
  });

  it("tokens: an origin failure before any report is estimated whole", () => {
    expect(measure(tokensRule, delivery("origin_failed", chatStream.slice(0, 2)), 100)).toEqual({
      usage: { input_tokens: 25, cached_input_tokens: 0, output_tokens: 1 },
      estimated: true,
    });
  });

  it("unitsFromHeader reads a plain decimal count; anything else is 0", () => {
    const h = (v?: string) => new Headers(v === undefined ? {} : { "tollgate-units": v });
    expect(["7", " 12 ", "0", "999999999999999"].map((v) => unitsFromHeader(h(v)))).toEqual([7, 12, 0, 999_999_999_999_999]);
    expect([undefined, "", "-1", "1.5", "1e3", "abc", "0x10", "1000000000000000"].map((v) => unitsFromHeader(h(v)))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
