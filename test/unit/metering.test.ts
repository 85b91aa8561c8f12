import { describe, expect, it } from "vitest";
import { requestBound } from "../../worker/metering/bound";
import { estimateTokens, TokenMeter } from "../../worker/metering/llm";
import { deliver, ORIGIN_FAILED_EVENT, type Delivery } from "../../worker/metering/tap";
import { measure, unitsFromHeader } from "../../worker/metering/usage";
import { chargeAtHeaders, cost, measuredCost, PriceRule, PriceRules, quote, settlement } from "../../core/pricing/rules";

const M = 1_000_000;
const tokensRule = PriceRule.parse({
  meter: "tokens",
  input: { amount: 150_000, per: M },
  cached_input: { amount: 75_000, per: M },
  output: { amount: 600_000, per: M },
  hold: 200_000,
});
const meterOf = (docs: unknown[], format?: "openai" | "anthropic") => {
  const meter = new TokenMeter(format);
  for (const doc of docs) meter.observe(doc);
  return meter;
};

// Realistic bodies and events, shaped like the providers' (trimmed of fields the meter ignores).
const chatJson = {
  id: "chatcmpl-1",
  object: "chat.completion",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello there, agent." }, finish_reason: "stop" }],
  usage: {
    prompt_tokens: 1200,
    completion_tokens: 40,
    total_tokens: 1240,
    prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  },
};
const chatChunk = (content: string | null, extra: Record<string, unknown> = {}) => ({
  id: "chatcmpl-2",
  object: "chat.completion.chunk",
  choices: content === null ? [] : [{ index: 0, delta: { content }, finish_reason: null }],
  usage: null,
  ...extra,
});
const chatStream = [
  chatChunk(""),
  chatChunk("Hel"),
  chatChunk("lo!"),
  chatChunk(null, { usage: { prompt_tokens: 20, completion_tokens: 2, total_tokens: 22, prompt_tokens_details: { cached_tokens: 0 } } }),
];
const responseJson = {
  id: "resp_1",
  object: "response",
  status: "completed",
  output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "Hi.", annotations: [] }] }],
  usage: {
    input_tokens: 300,
    input_tokens_details: { cached_tokens: 100 },
    output_tokens: 12,
    output_tokens_details: { reasoning_tokens: 4 },
    total_tokens: 312,
  },
};
const responsesStream = [
  { type: "response.created", sequence_number: 0, response: { id: "resp_2", object: "response", status: "in_progress", usage: null } },
  { type: "response.output_text.delta", sequence_number: 1, item_id: "msg_1", output_index: 0, content_index: 0, delta: "Tool" },
  { type: "response.output_text.delta", sequence_number: 2, item_id: "msg_1", output_index: 0, content_index: 0, delta: "gate" },
  { type: "response.output_text.done", sequence_number: 3, item_id: "msg_1", output_index: 0, content_index: 0, text: "Tollgate" },
  {
    type: "response.completed",
    sequence_number: 4,
    response: {
      id: "resp_2",
      object: "response",
      status: "completed",
      usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 10 }, output_tokens: 2, total_tokens: 52 },
    },
  },
];
const anthropicJson = {
  id: "msg_1",
  type: "message",
  role: "assistant",
  content: [{ type: "text", text: "Hello, agent." }],
  stop_reason: "end_turn",
  usage: { input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 30 },
};
const anthropicStream = [
  {
    type: "message_start",
    message: { id: "msg_2", type: "message", role: "assistant", content: [], usage: { input_tokens: 472, cache_read_input_tokens: 64, output_tokens: 1 } },
  },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "ping" },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "!" } },
  { type: "content_block_stop", index: 0 },
  { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} } },
  { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city": "Paris"}' } },
  { type: "content_block_stop", index: 1 },
  { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 89 } },
  { type: "message_stop" },
];

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

describe("requestBound", () => {
  const enc = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc)).buffer as ArrayBuffer;
  const chat = { model: "m", messages: [{ role: "user", content: "Bonjour, ça va ?" }] };

  it("reads max_tokens / max_completion_tokens / max_output_tokens; input is the body's bytes", () => {
    const body = enc({ ...chat, max_tokens: 64 });
    // Bytes, not characters: "ç" is two bytes in UTF-8.
    expect(body.byteLength).toBe(JSON.stringify({ ...chat, max_tokens: 64 }).length + 1);
    expect(requestBound(body)).toEqual({ inputTokens: body.byteLength, outputTokens: 64 });
    expect(requestBound(enc({ ...chat, max_completion_tokens: 5 }))?.outputTokens).toBe(5);
    expect(requestBound(enc({ model: "m", input: "hi", max_output_tokens: 7 }))?.outputTokens).toBe(7);
    expect(requestBound(enc({ ...chat, max_tokens: 0 }))?.outputTokens).toBe(0);
    expect(requestBound(enc({ ...chat, max_tokens: null, max_completion_tokens: 9 }))?.outputTokens).toBe(9);
  });

  it("takes the largest when several bounds are sent", () => {
    expect(requestBound(enc({ ...chat, max_tokens: 10, max_completion_tokens: 1000 }))?.outputTokens).toBe(1000);
  });

  it("is null without a usable output bound", () => {
    for (const doc of [
      chat,
      { ...chat, max_tokens: -1 },
      { ...chat, max_tokens: 1.5 },
      { ...chat, max_tokens: "10" },
      { ...chat, max_tokens: 2 ** 53 },
      [1],
      "x",
      42,
    ]) {
      expect(requestBound(enc(doc))).toBeNull();
    }
    expect(requestBound(new TextEncoder().encode("{not json").buffer as ArrayBuffer)).toBeNull();
    expect(requestBound(new ArrayBuffer(0))).toBeNull();
  });

  it("multiplies the output bound by n (and best_of) choices", () => {
    expect(requestBound(enc({ ...chat, max_tokens: 100, n: 3 }))?.outputTokens).toBe(300);
    expect(requestBound(enc({ model: "m", prompt: "hi", max_tokens: 10, n: 2, best_of: 5 }))?.outputTokens).toBe(50);
    expect(requestBound(enc({ ...chat, max_tokens: 100, n: 0 }))?.outputTokens).toBe(100);
  });

  it("is null when the input is not all in the body: stored state, templates, media, files, tools", () => {
    const unbounded = [
      { model: "m", input: "continue", previous_response_id: "resp_123", max_output_tokens: 10 },
      { model: "m", input: "hi", conversation: "conv_123", max_output_tokens: 10 },
      { model: "m", prompt: { id: "pmpt_123", variables: {} }, max_output_tokens: 10 },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/cat.png" } }] }] },
      { model: "m", max_output_tokens: 10, input: [{ role: "user", content: [{ type: "input_image", image_url: "https://x/cat.png" }] }] },
      { model: "m", max_output_tokens: 10, input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }] },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://x/cat.png" } }] }] },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: "f" } }] }] },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }], tools: [{ name: "get_weather", input_schema: { type: "object" } }] },
      { model: "m", max_output_tokens: 10, input: "search", tools: [{ type: "web_search" }] },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }], mcp_servers: [{ type: "url", url: "https://mcp" }] },
    ];
    for (const doc of unbounded) expect(requestBound(enc(doc)), JSON.stringify(doc)).toBeNull();
    // Text-only content parts, a legacy string prompt and an empty tools list keep the bound.
    const texts = { model: "m", max_tokens: 10, tools: [], messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], previous_response_id: null };
    expect(requestBound(enc(texts))?.outputTokens).toBe(10);
    expect(requestBound(enc({ model: "m", prompt: "Once upon", max_tokens: 10 }))?.outputTokens).toBe(10);
  });
});

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

describe("deliver", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const sse = (events: unknown[]) => events.map((e) => `data: ${JSON.stringify(e)}\n\n`);
  async function drain(readable: ReadableStream<Uint8Array>): Promise<{ text: string; error: unknown }> {
    const reader = readable.getReader();
    let text = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { text, error: null };
        text += new TextDecoder().decode(value, { stream: true });
      }
    } catch (error) {
      return { text, error };
    }
  }
  /** One part per read, then the end or (a stream error discards what is queued) the failure. */
  const source = (parts: string[], fail?: Error) => {
    let next = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const part = parts[next++];
          if (part !== undefined) controller.enqueue(enc(part));
          else if (fail) controller.error(fail);
          else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
  };
  const opts = (contentType: string) => ({ startedAt: Date.now(), meterTokens: true, format: "openai" as const, contentType });

  it("passes every byte through and meters the SSE events, split anywhere", async () => {
    const whole = `${sse(chatStream).join("")}data: [DONE]\n\n`;
    const parts = [whole.slice(0, 7), whole.slice(7, 150), whole.slice(150)];
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const [delivery, out] = await Promise.all([deliver(source(parts), writable, opts("text/event-stream")), drain(readable)]);
    expect(out).toEqual({ text: whole, error: null });
    expect(delivery.outcome).toBe("complete");
    expect(delivery.bytes).toBe(enc(whole).byteLength);
    expect(delivery.tokens?.reported()).toEqual({ input_tokens: 20, cached_input_tokens: 0, output_tokens: 2 });
  });

  it("reads a JSON body's usage at its end", async () => {
    const body = JSON.stringify(chatJson);
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const [delivery] = await Promise.all([deliver(source([body.slice(0, 20), body.slice(20)]), writable, opts("application/json")), drain(readable)]);
    expect(delivery.tokens?.reported()).toEqual({ input_tokens: 176, cached_input_tokens: 1024, output_tokens: 40 });
  });

  it("an SSE origin that breaks ends the agent's stream with an error event (SDKs raise it)", async () => {
    const parts = sse(chatStream.slice(0, 2));
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const [delivery, out] = await Promise.all([
      deliver(source([...parts, 'data: {"half'], new Error("connection lost")), writable, opts("text/event-stream")),
      drain(readable),
    ]);
    expect(delivery.outcome).toBe("origin_failed");
    expect(out.error).toBeNull();
    expect(out.text).toBe(`${parts.join("")}data: {"half${new TextDecoder().decode(ORIGIN_FAILED_EVENT)}`);
    const last = out.text.split("\n\n").filter(Boolean).at(-1) as string;
    expect(last.split("\n")[0]).toBe("event: error");
    expect(JSON.parse(last.split("\n")[1]?.slice("data: ".length) ?? "")).toMatchObject({ error: { code: "origin_failed" } });
    expect(delivery.tokens?.text()).toBe(3);
  });

  it("a JSON origin that breaks aborts the agent's stream", async () => {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const [delivery, out] = await Promise.all([deliver(source(['{"id":'], new Error("lost")), writable, opts("application/json")), drain(readable)]);
    expect(delivery.outcome).toBe("origin_failed");
    expect(out.error).toBeInstanceOf(Error);
  });

  it("an agent that leaves cancels the origin", async () => {
    let cancelled = false;
    let sent = 0;
    const origin = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(enc(`data: ${JSON.stringify(chatChunk("word "))}\n\n`));
        sent++;
      },
      cancel() {
        cancelled = true;
      },
    });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const pending = deliver(origin, writable, opts("text/event-stream"));
    const reader = readable.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel("agent left");
    const delivery = await pending;
    expect(delivery.outcome).toBe("client_disconnected");
    expect(cancelled).toBe(true);
    expect(sent).toBeLessThan(10);
    expect(delivery.tokens?.text()).toBeGreaterThanOrEqual(10);
  });
});

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
