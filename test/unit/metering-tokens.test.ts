import { describe, expect, it } from "vitest";
import { estimateTokens, TokenMeter } from "../../worker/metering/llm";
import { anthropicJson, anthropicStream, chatJson, chatStream, meterOf, responseJson, responsesStream } from "./metering-fixtures";

describe("TokenMeter", () => {
  it("OpenAI Chat JSON: cached tokens are taken out of the prompt total and priced apart", () => {
    const meter = meterOf([chatJson], "openai");
    expect(meter.reported()).toEqual({ input_tokens: 176, cached_input_tokens: 1024, output_tokens: 40 });
    expect(meter.text()).toBe("Hello there, agent.".length);
  });

  it("OpenAI Chat SSE: nothing until the include_usage chunk; text from the deltas", () => {
    const meter = new TokenMeter("openai");
    for (const chunk of chatStream.slice(0, 3)) meter.observe(chunk);
    expect(meter.reported()).toBeNull();
    expect(meter.text()).toBe(6);
    meter.observe(chatStream[3]);
    expect(meter.reported()).toEqual({ input_tokens: 20, cached_input_tokens: 0, output_tokens: 2 });
  });

  it("OpenAI Responses JSON and SSE (usage on response.completed / response.incomplete)", () => {
    expect(meterOf([responseJson]).reported()).toEqual({ input_tokens: 200, cached_input_tokens: 100, output_tokens: 12 });
    const meter = meterOf(responsesStream.slice(0, 4));
    expect(meter.reported()).toBeNull();
    expect(meter.text()).toBe(8); // the deltas, not the `done` repeat
    meter.observe(responsesStream[4]);
    expect(meter.reported()).toEqual({ input_tokens: 40, cached_input_tokens: 10, output_tokens: 2 });
    const incomplete = { type: "response.incomplete", response: { status: "incomplete", usage: { input_tokens: 9, output_tokens: 4 } } };
    expect(meterOf([incomplete]).reported()).toEqual({ input_tokens: 9, cached_input_tokens: 0, output_tokens: 4 });
  });

  it("Anthropic JSON: cache writes bill as input, cache reads as cached input", () => {
    const meter = meterOf([anthropicJson]);
    expect(meter.reported()).toEqual({ input_tokens: 125, cached_input_tokens: 2000, output_tokens: 30 });
    expect(meter.text()).toBe("Hello, agent.".length);
  });

  it("Anthropic SSE: input at message_start, cumulative output at message_delta; text and tool JSON counted", () => {
    const meter = new TokenMeter("anthropic");
    meter.observe(anthropicStream[0]);
    expect(meter.reported()).toEqual({ input_tokens: 472, cached_input_tokens: 64, output_tokens: 1 });
    for (const event of anthropicStream.slice(1)) meter.observe(event);
    expect(meter.reported()).toEqual({ input_tokens: 472, cached_input_tokens: 64, output_tokens: 89 });
    expect(meter.text()).toBe("Hello!".length + '{"city": "Paris"}'.length);
  });

  it("a message_delta that repeats cumulative input (newer API versions) keeps the largest counts", () => {
    const late = { type: "message_delta", delta: {}, usage: { input_tokens: 500, cache_read_input_tokens: 64, output_tokens: 12 } };
    expect(meterOf([anthropicStream[0], late]).reported()).toEqual({ input_tokens: 500, cached_input_tokens: 64, output_tokens: 12 });
    const partial = { type: "message_delta", delta: {}, usage: { input_tokens: null, output_tokens: 7 } };
    expect(meterOf([anthropicStream[0], partial]).reported()).toEqual({ input_tokens: 472, cached_input_tokens: 64, output_tokens: 7 });
  });

  it("detects the format from the first document when the rule names none", () => {
    // Anthropic's input_tokens excludes cache reads; read as OpenAI they would be subtracted.
    expect(meterOf(anthropicStream).reported()).toEqual({ input_tokens: 472, cached_input_tokens: 64, output_tokens: 89 });
    expect(meterOf([{ usage: { input_tokens: 10, cache_read_input_tokens: 4, output_tokens: 2 } }]).reported()).toEqual({
      input_tokens: 10,
      cached_input_tokens: 4,
      output_tokens: 2,
    });
    expect(meterOf([chatJson]).reported()).toEqual({ input_tokens: 176, cached_input_tokens: 1024, output_tokens: 40 });
  });

  it("ignores what is not a count, and never reports more cached than input", () => {
    const bad = { usage: { prompt_tokens: -3, completion_tokens: 1.5, prompt_tokens_details: { cached_tokens: "9" } } };
    expect(meterOf([bad], "openai").reported()).toEqual({ input_tokens: undefined, cached_input_tokens: 0, output_tokens: undefined });
    const over = { usage: { prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 50 } } };
    expect(meterOf([over], "openai").reported()).toEqual({ input_tokens: 0, cached_input_tokens: 10, output_tokens: 1 });
    const meter = meterOf([null, 42, "usage", [chatJson], { usage: [1, 2] }], "openai");
    expect(meter.reported()).toBeNull();
    expect(meter.text()).toBe(0);
  });

  it("estimateTokens is ⌈characters ÷ 4⌉", () => {
    expect([0, 1, 4, 5, 8, 9].map(estimateTokens)).toEqual([0, 1, 1, 2, 2, 3]);
  });
});
