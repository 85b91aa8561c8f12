/**
 * Usage metering end to end, calls that complete: the real gateway (`wrangler dev`) in front of
 * the fake LLM origin (demo/llm-origin.ts), driven by the official `openai` and `@anthropic-ai/sdk`
 * clients with the agent key as their API key. Every call kind leaves the account charged exactly
 * what the origin's deterministic usage costs under the service's token rule, and the journal
 * records the usage measured. Also: time to first event, and the bytes / units / deferred meters.
 * Holds and calls cut short: llm-bounds.test.ts.
 */
import { describe, expect, it } from "vitest";
import { generatedTokens } from "../../demo/llm-origin.ts";
import {
  agentKey,
  anthropic,
  api,
  balance,
  CHAT,
  CLAUDE,
  ceil,
  chatMessages,
  expectCapture,
  gw,
  INPUT,
  type Json,
  LLM_HOLD,
  openai,
  origin,
  provider,
  RESPONSES,
  services,
  settled,
  SYSTEM,
  TEXT_12,
  USER,
  withLlmGateway,
} from "./llm-fixtures.ts";

withLlmGateway();

describe("OpenAI SDK through Tollgate", () => {
  it("chat.completions.create (JSON): cached tokens at the cached rate, settled from the usage", async () => {
    const before = await balance();
    const { data, response } = await openai.chat.completions
      .create({ model: "fake-llm-1", messages: chatMessages }, { headers: { "x-fake-tokens": "40", "x-fake-cached": "20" } })
      .withResponse();
    expect(data.usage).toMatchObject({ prompt_tokens: INPUT, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 20 } });
    expect(response.headers.get("tollgate-hold")).toBe(String(LLM_HOLD));
    // 13 input at 0.15 → 2, 20 cached at 0.075 → 2, 40 output at 0.6 → 24.
    const expected = ceil(13, CHAT.input) + ceil(20, CHAT.cached_input) + ceil(40, CHAT.output);
    expect(expected).toBe(28);
    const t = await settled(response.headers.get("tollgate-request-id"), before);
    expectCapture(t, 28, { input: INPUT, cached: 20, output: 40 }, services.llm);
  });

  it("chat.completions.create (stream, include_usage): settled from the final usage chunk", async () => {
    const before = await balance();
    const { data: stream, response } = await openai.chat.completions
      .create({ model: "fake-llm-1", messages: chatMessages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let text = "";
    let usage: Json = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      usage ??= chunk.usage;
    }
    expect(text).toBe(TEXT_12);
    expect(usage).toMatchObject({ prompt_tokens: INPUT, completion_tokens: 12 });
    const t = await settled(response.headers.get("tollgate-request-id"), before);
    // 33 input → ⌈4.95⌉ = 5, 12 output → ⌈7.2⌉ = 8.
    expectCapture(t, 13, { input: INPUT, cached: 0, output: 12 }, services.llm);
  });

  it("a stream without a usage report is charged an estimate (~4 characters per token), marked estimated", async () => {
    const before = await balance();
    const body = JSON.stringify({ model: "fake-llm-1", messages: chatMessages, stream: true });
    const res = await fetch(`${gw.url}/s/llm/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${agentKey}`, "content-type": "application/json" },
      body,
    });
    expect(await res.text()).toContain("[DONE]");
    const input = Math.ceil(body.length / 4);
    const output = Math.ceil(TEXT_12.length / 4);
    expect([body.length, TEXT_12.length]).toEqual([248, 74]);
    const t = await settled(res.headers.get("tollgate-request-id"), before);
    // 62 input (248 request bytes) → ⌈9.3⌉ = 10, 19 output (74 characters) → ⌈11.4⌉ = 12.
    expect(ceil(input, CHAT.input) + ceil(output, CHAT.output)).toBe(22);
    expect(t).toMatchObject({
      amount: 22,
      reason: "origin_succeeded",
      usage: { input_tokens: 62, cached_input_tokens: 0, output_tokens: 19, estimated: true },
    });
  });

  it("SSE events split across network writes (mid-event, mid-UTF-8) are still metered exactly", async () => {
    const before = await balance();
    const { data: stream, response } = await openai.chat.completions
      .create(
        { model: "fake-llm-1", messages: chatMessages, stream: true, stream_options: { include_usage: true } },
        { headers: { "x-fake-split": "1", "x-fake-tokens": "24" } },
      )
      .withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe(generatedTokens(24).join(""));
    const t = await settled(response.headers.get("tollgate-request-id"), before);
    // 33 input → 5, 24 output → ⌈14.4⌉ = 15.
    expectCapture(t, 20, { input: INPUT, cached: 0, output: 24 }, services.llm);
  });

  it("responses.create (JSON): cached tokens at the input rate when the rule has no cached_input", async () => {
    const before = await balance();
    const { data, response } = await openai.responses
      .create({ model: "fake-llm-1", instructions: SYSTEM, input: USER }, { headers: { "x-fake-tokens": "30", "x-fake-cached": "10" } })
      .withResponse();
    expect(data.output_text).toBe(generatedTokens(30).join(""));
    expect(data.usage).toMatchObject({ input_tokens: INPUT, output_tokens: 30, input_tokens_details: { cached_tokens: 10 } });
    const t = await settled(response.headers.get("tollgate-request-id"), before);
    // 23 input → ⌈3.45⌉ = 4, 10 cached at the input rate → ⌈1.5⌉ = 2, 30 output → 18.
    expect(ceil(23, RESPONSES.input) + ceil(10, RESPONSES.input) + ceil(30, RESPONSES.output)).toBe(24);
    expectCapture(t, 24, { input: INPUT, cached: 10, output: 30 }, services.llm);
  });

  it("responses.create (stream): max_output_tokens lowers the hold; usage from response.incomplete", async () => {
    const before = await balance();
    const params = {
      model: "fake-llm-1",
      instructions: SYSTEM,
      input: [{ role: "user" as const, content: [{ type: "input_text" as const, text: USER }] }],
      max_output_tokens: 9,
      stream: true as const,
    };
    const { data: stream, response } = await openai.responses.create(params).withResponse();
    const types: string[] = [];
    let text = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.incomplete");
    expect(text).toBe(generatedTokens(9).join(""));
    // The hold is what the request can cost at most: its bytes as input tokens, 9 output tokens.
    const bytes = Buffer.byteLength(JSON.stringify(params));
    expect(response.headers.get("tollgate-hold")).toBe(String(ceil(bytes, RESPONSES.input) + ceil(9, RESPONSES.output)));
    const t = await settled(response.headers.get("tollgate-request-id"), before);
    // 33 input → 5, 9 output → ⌈5.4⌉ = 6.
    expectCapture(t, 11, { input: INPUT, cached: 0, output: 9 }, services.llm);
  });
});

describe("Anthropic SDK through Tollgate", () => {
  it("messages.create (JSON): cache reads at the cached rate", async () => {
    const before = await balance();
    const { data, response } = await anthropic.messages
      .create(
        { model: "fake-llm-1", max_tokens: 1024, system: SYSTEM, messages: [{ role: "user", content: USER }] },
        { headers: { "x-fake-tokens": "40", "x-fake-cached": "20" } },
      )
      .withResponse();
    expect(data.usage).toMatchObject({ input_tokens: 13, cache_read_input_tokens: 20, output_tokens: 40 });
    expect(data.content[0]).toMatchObject({ type: "text", text: generatedTokens(40).join("") });
    const t = await settled(response.headers.get("tollgate-request-id"), before);
    // 13 input × 3 = 39, 20 cached × 0.3 = 6, 40 output × 15 = 600.
    expect(ceil(13, CLAUDE.input) + ceil(20, CLAUDE.cached_input) + ceil(40, CLAUDE.output)).toBe(645);
    expectCapture(t, 645, { input: INPUT, cached: 20, output: 40 }, services.claude);
  });

  it("messages.create (stream): input from message_start, cumulative output from message_delta", async () => {
    const before = await balance();
    const { data: stream, response } = await anthropic.messages
      .create({ model: "fake-llm-1", max_tokens: 256, system: SYSTEM, messages: [{ role: "user", content: USER }], stream: true })
      .withResponse();
    let text = "";
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
    }
    expect(types[0]).toBe("message_start");
    expect(types.at(-1)).toBe("message_stop");
    expect(text).toBe(TEXT_12);
    const t = await settled(response.headers.get("tollgate-request-id"), before);
    // 33 × 3 = 99, 12 × 15 = 180.
    expectCapture(t, 279, { input: INPUT, cached: 0, output: 12 }, services.claude);
  });

  it("the messages.stream() helper sees the whole message and the same charge", async () => {
    const before = await balance();
    const stream = anthropic.messages.stream({ model: "fake-llm-1", max_tokens: 5, system: SYSTEM, messages: [{ role: "user", content: USER }] });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.usage.output_tokens).toBe(5);
    const requestId = (await stream.withResponse()).response.headers.get("tollgate-request-id");
    const t = await settled(requestId, before);
    // 33 × 3 = 99, 5 × 15 = 75.
    expectCapture(t, 174, { input: INPUT, cached: 0, output: 5 }, services.claude);
  });
});

describe("streaming latency", () => {
  it("the first SSE event reaches the client long before the origin sends its last", async () => {
    const calls = origin.log.length;
    const started = Date.now();
    const res = await fetch(`${gw.url}/s/llm/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${agentKey}`, "content-type": "application/json", "x-fake-tokens": "5", "x-fake-delay-ms": "300" },
      body: JSON.stringify({ model: "fake-llm-1", messages: chatMessages, stream: true, stream_options: { include_usage: true } }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const arrivals: number[] = [];
    let raw = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      arrivals.push(Date.now());
      raw += new TextDecoder().decode(value);
    }
    const writes = origin.log[calls]?.writes ?? [];
    // role, 5 tokens, finish, usage, [DONE]: 9 events, 8 gaps of 300 ms.
    expect(writes.length).toBe(9);
    expect(raw.match(/^data: /gm)?.length).toBe(9);
    const first = arrivals[0] as number;
    const lastWrite = writes.at(-1) as number;
    console.log(
      `[e2e] TTFB through the gateway: headers+first event ${first - started} ms after the request; origin's first write at +${(writes[0] as number) - started} ms, ` +
        `last at +${lastWrite - started} ms; first event arrived ${lastWrite - first} ms before the origin's last write; client saw ${arrivals.length} reads, last at +${(arrivals.at(-1) as number) - started} ms`,
    );
    expect(first).toBeLessThan(lastWrite - 1_500);
    expect(first - (writes[0] as number)).toBeLessThan(1_000);
  });
});

describe("bytes, units and deferred meters", () => {
  it("bytes: charged per body byte delivered", async () => {
    const before = await balance();
    const res = await fetch(`${gw.url}/s/meters/bytes/5000`, { headers: { authorization: `Bearer ${agentKey}` } });
    expect(res.headers.get("tollgate-hold")).toBe("1000");
    expect((await res.text()).length).toBe(5000);
    const t = await settled(res.headers.get("tollgate-request-id"), before);
    // 5000 bytes at 1 per 100.
    expect(t).toMatchObject({ amount: 50, usage: { bytes: 5000 }, reason: "origin_succeeded", shortfall: 0 });
  });

  it("units header: charged at the headers; above the hold, capped with a shortfall; the header is not forwarded", async () => {
    const before = await balance();
    const res = await fetch(`${gw.url}/s/meters/units/7`, { method: "POST", headers: { authorization: `Bearer ${agentKey}` } });
    expect(await res.json()).toEqual({ units: 7 });
    // per_call 100 + 7 × 250.
    expect(res.headers.get("tollgate-charge")).toBe("1850");
    expect(res.headers.get("tollgate-units")).toBeNull();
    const t = await settled(res.headers.get("tollgate-request-id"), before);
    expect(t).toMatchObject({ amount: 1850, usage: { units: 7 }, shortfall: 0, reason: "origin_succeeded" });

    const before2 = await balance();
    const over = await fetch(`${gw.url}/s/meters/units/40`, { method: "POST", headers: { authorization: `Bearer ${agentKey}` } });
    await over.arrayBuffer();
    // 100 + 40 × 250 = 10100, capped at the 5000 hold.
    expect(over.headers.get("tollgate-charge")).toBe("5000");
    const t2 = await settled(over.headers.get("tollgate-request-id"), before2);
    expect(t2).toMatchObject({ amount: 5000, usage: { units: 40 }, shortfall: 5100 });
  });

  it("deferred units: the hold waits for POST /v1/usage from the provider, settled once", async () => {
    const before = await balance();
    const res = await fetch(`${gw.url}/s/meters/jobs`, { method: "POST", headers: { authorization: `Bearer ${agentKey}` } });
    expect(res.status).toBe(202);
    expect(res.headers.get("tollgate-hold")).toBe("20000");
    expect(res.headers.get("tollgate-charge")).toBeNull();
    await res.json();
    const requestId = res.headers.get("tollgate-request-id") as string;
    expect(await balance()).toMatchObject({ pending: 20_000, available: before.available - 20_000 });

    const byAgent = await api("POST", "/v1/usage", agentKey, { request_id: requestId, units: 3 });
    expect(byAgent.status).toBe(403);
    const report = await api("POST", "/v1/usage", provider.api_key, { request_id: requestId, units: 3 });
    expect(report.status, JSON.stringify(report.body)).toBe(201);
    expect(report.body).toMatchObject({
      request_id: requestId,
      held: 20_000,
      captured: 3_000,
      transfer: { amount: 3_000, usage: { units: 3 }, reason: "usage_reported" },
    });
    const again = await api("POST", "/v1/usage", provider.api_key, { request_id: requestId, units: 5 });
    expect(again.status).toBe(409);
    const t = await settled(requestId, before);
    expect(t).toMatchObject({ amount: 3_000, usage: { units: 3 }, reason: "usage_reported" });
  });
});
