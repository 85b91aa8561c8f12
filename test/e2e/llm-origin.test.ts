/**
 * The fake LLM origin's deterministic usage (demo/llm-origin.ts), which every figure in
 * llm-metering.test.ts and llm-bounds.test.ts is computed from. No gateway needed.
 */
import { describe, expect, it } from "vitest";
import { fakeUsage } from "../../demo/llm-origin.ts";
import { chatMessages, INPUT, SYSTEM, USER } from "./llm-fixtures.ts";

describe("the fake origin's usage function", () => {
  it("is what the LLM end-to-end tests rely on", () => {
    expect(fakeUsage("chat", { messages: chatMessages })).toEqual({ input: INPUT, cached: 0, output: 12, limited: false });
    expect(
      fakeUsage(
        "messages",
        { system: [{ type: "text", text: SYSTEM }], messages: [{ role: "user", content: [{ type: "text", text: USER }] }], max_tokens: 5 },
        { "x-fake-cached": "50" },
      ),
    ).toEqual({
      input: INPUT,
      cached: INPUT,
      output: 5,
      limited: true,
    });
    expect(fakeUsage("responses", { input: USER, instructions: SYSTEM }, { "x-fake-tokens": "3" })).toEqual({
      input: INPUT,
      cached: 0,
      output: 3,
      limited: false,
    });
  });
});
