/**
 * Usage metering end to end: the real gateway (`wrangler dev`) in front of the fake LLM origin
 * (demo/llm-origin.ts), driven by the official `openai` and `@anthropic-ai/sdk` clients with the
 * agent key as their API key. Every call kind leaves the account charged exactly what the
 * origin's deterministic usage costs under the service's token rule, and the journal records the
 * usage measured. Also: client disconnects and origin failures mid-stream, time to first event,
 * the hold lowered by `max_tokens`, 402 below the hold, and the bytes / units / deferred meters.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeUsage, generatedTokens, INPUT_OVERHEAD, startLlmOrigin, type RunningLlmOrigin } from "../../demo/llm-origin.ts";
import { eventually, startGateway, type Gateway } from "./harness.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const M = 1_000_000;
const LLM_HOLD = 200_000;
const CLAUDE_HOLD = 500_000;
const CHAT = { input: { amount: 150_000, per: M }, cached_input: { amount: 75_000, per: M }, output: { amount: 600_000, per: M } };
/** No cached_input rate: cached tokens are priced at the input rate. */
const RESPONSES = { input: { amount: 150_000, per: M }, output: { amount: 600_000, per: M } };
const CLAUDE = { input: { amount: 3 * M, per: M }, cached_input: { amount: 300_000, per: M }, output: { amount: 15 * M, per: M } };
const chatRule = { match: { method: "POST", path: "/v1/chat/completions" }, meter: "tokens", format: "openai", ...CHAT, hold: LLM_HOLD };
const responsesRule = { match: { method: "POST", path: "/v1/responses" }, meter: "tokens", format: "openai", ...RESPONSES, hold: LLM_HOLD };
const messagesRule = { match: { method: "POST", path: "/v1/messages" }, meter: "tokens", format: "anthropic", ...CLAUDE, hold: CLAUDE_HOLD };

const SYSTEM = "You are a terse assistant."; // 5 words
const USER = "Explain in one sentence how a metering gateway charges an agent for the tokens it uses, and why the hold matters."; // 21 words
const INPUT = INPUT_OVERHEAD + 5 + 21; // 33 input tokens for every call below
const TEXT_12 = generatedTokens(12).join(""); // the default completion

/** ⌈units × amount ÷ per⌉, as Tollgate prices each meter component. */
const ceil = (units: number, rate: { amount: number; per: number }) => Math.floor((units * rate.amount + rate.per - 1) / rate.per);

let gw: Gateway;
let origin: RunningLlmOrigin;
let provider: Json;
let account: Json;
let agentKey: string;
let openai: OpenAI;
let anthropic: Anthropic;
const services: Record<string, Json> = {};

async function api(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Json };
}

const balance = async (acct: Json = account) => (await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body;
const journal = async (acct: Json = account): Promise<Json[]> => (await api("GET", `/v1/accounts/${acct.id}/transfers?limit=100`, acct.owner_key)).body.data;

/**
 * Waits until the call's hold is settled (streamed calls settle after the body, in waitUntil),
 * then checks the balance moved by exactly the capture and returns the capture (or null: voided).
 */
async function settled(requestId: string | null, before: Json): Promise<Json | null> {
  expect(requestId).toMatch(/^req_/);
  const after = await eventually(balance, (b) => expect(b.pending).toBe(0));
  const capture = (await journal()).find((t) => t.request_id === requestId) ?? null;
  expect(after.posted).toBe(before.posted - (capture?.amount ?? 0));
  expect(after.available).toBe(after.posted);
  return capture;
}

/** The capture a call with this usage should produce under a tokens rule (reported usage). */
function expectCapture(t: Json, amount: number, usage: { input: number; cached: number; output: number }, service: Json) {
  expect(t).toMatchObject({
    kind: "capture",
    amount,
    shortfall: 0,
    reason: "origin_succeeded",
    service_id: service.id,
    provider_id: provider.id,
    usage: { input_tokens: usage.input - usage.cached, cached_input_tokens: usage.cached, output_tokens: usage.output },
  });
  expect(t.usage.estimated).toBeUndefined();
}

beforeAll(async () => {
  [gw, origin] = await Promise.all([startGateway(), startLlmOrigin(0)]);
  provider = (await api("POST", "/v1/providers", gw.operatorToken, { name: "Fake LLM Co" })).body;
  const service = async (slug: string, prices: unknown[]) => {
    const res = await api("POST", "/v1/services", provider.api_key, { slug, name: slug, origin: origin.url, prices });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    services[slug] = res.body;
  };
  await service("llm", [chatRule, responsesRule]);
  await service("claude", [messagesRule]);
  await service("llm-strict", [{ ...chatRule, on_failure: "none" }]);
  await service("meters", [
    { match: { path: "/bytes/*" }, meter: "bytes", rate: { amount: 1, per: 100 }, hold: 1_000 },
    { match: { path: "/units/*" }, meter: "units", per_call: 100, rate: { amount: 250, per: 1 }, hold: 5_000 },
    { match: { path: "/jobs" }, meter: "units", deferred: true, rate: { amount: 1_000, per: 1 }, hold: 20_000 },
  ]);
  account = (await api("POST", "/v1/accounts", gw.operatorToken, { name: "Agent Co", currency: "USD" })).body;
  const credit = await api("POST", `/v1/accounts/${account.id}/credits`, gw.operatorToken, { amount: 10 * M }, { "idempotency-key": "llm-topup" });
  expect(credit.status).toBe(201);
  agentKey = (await api("POST", `/v1/accounts/${account.id}/agent-keys`, account.owner_key, { name: "sdk-bot" })).body.key;
  openai = new OpenAI({ apiKey: agentKey, baseURL: `${gw.url}/s/llm/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: agentKey, baseURL: `${gw.url}/s/claude`, maxRetries: 0 });
});

afterAll(async () => {
  await Promise.all([gw?.stop(), origin?.close()]);
});

const chatMessages = [
  { role: "system" as const, content: SYSTEM },
  { role: "user" as const, content: USER },
];

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

describe("holds", () => {
  it("max_tokens lowers the hold to the request's own bound", async () => {
    const body = JSON.stringify({ model: "fake-llm-1", max_tokens: 7, system: SYSTEM, messages: [{ role: "user", content: USER }] });
    const before = await balance();
    const res = await fetch(`${gw.url}/s/claude/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": agentKey, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body,
    });
    // Input bounded by the body's bytes at the dearer input rate (3), output by max_tokens (15).
    const bound = body.length * 3 + 7 * 15;
    expect(bound).toBe(body.length * 3 + 105);
    expect(res.headers.get("tollgate-hold")).toBe(String(bound));
    expect(bound).toBeLessThan(CLAUDE_HOLD);
    await res.json();
    const t = await settled(res.headers.get("tollgate-request-id"), before);
    expect(t.amount).toBe(99 + 105);
    expect(t.amount).toBeLessThanOrEqual(bound);
  });

  it("no lowering when the input is not all in the body (a stored conversation), and n choices multiply the output bound", async () => {
    const before = await balance();
    const stored = await openai.responses
      .create({ model: "fake-llm-1", input: "continue", previous_response_id: "resp_earlier", max_output_tokens: 5 })
      .withResponse();
    expect(stored.response.headers.get("tollgate-hold")).toBe(String(LLM_HOLD));
    await settled(stored.response.headers.get("tollgate-request-id"), before);

    const before2 = await balance();
    const params = { model: "fake-llm-1", messages: chatMessages, max_tokens: 10, n: 3 };
    const multi = await openai.chat.completions.create(params).withResponse();
    expect(multi.response.headers.get("tollgate-hold")).toBe(String(ceil(Buffer.byteLength(JSON.stringify(params)), CHAT.input) + ceil(30, CHAT.output)));
    await settled(multi.response.headers.get("tollgate-request-id"), before2);
  });

  it("402 when the balance is below the hold (nothing forwarded); a bounded request still fits", async () => {
    const small = (await api("POST", "/v1/accounts", gw.operatorToken, { name: "Small", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${small.id}/credits`, gw.operatorToken, { amount: 1_000 }, { "idempotency-key": "small-llm" });
    const key = (await api("POST", `/v1/accounts/${small.id}/agent-keys`, small.owner_key, { name: "small-bot" })).body.key;
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/s/llm/v1`, maxRetries: 0 });
    const calls = origin.log.length;

    const refused = await client.chat.completions.create({ model: "fake-llm-1", messages: chatMessages }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    const err = refused as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(402);
    expect(err.headers?.get("content-type")).toMatch(/^application\/problem\+json/);
    // The Anthropic SDK keeps the whole problem body (the OpenAI SDK only reads an `error` member).
    const claude = new Anthropic({ apiKey: key, baseURL: `${gw.url}/s/claude`, maxRetries: 0 });
    const refused2 = await claude.messages
      .create({ model: "fake-llm-1", max_tokens: 4096, messages: [{ role: "user", content: USER }] })
      .catch((e: unknown) => e);
    expect(refused2).toBeInstanceOf(Anthropic.APIError);
    expect((refused2 as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    // The price quoted is the request's bound: its bytes × 3 + 4096 × 15, still far above 1000.
    expect((refused2 as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      status: 402,
      code: "insufficient_funds",
      price: expect.any(Number),
      available: 1_000,
      currency: "USD",
    });
    const price = ((refused2 as InstanceType<typeof Anthropic.APIError>).error as { price: number }).price;
    expect(price - 4096 * 15).toBeGreaterThan(0);
    expect((price - 4096 * 15) % 3).toBe(0);
    expect(origin.log.length).toBe(calls);

    // With max_tokens the hold is the request's bound (~40), well within 1000.
    const ok = await client.chat.completions.create({ model: "fake-llm-1", messages: chatMessages, max_tokens: 12 });
    expect(ok.usage?.completion_tokens).toBe(12);
    const after = await eventually(
      () => balance(small),
      (b) => expect(b.pending).toBe(0),
    );
    expect(after).toEqual({ currency: "USD", posted: 1_000 - 13, pending: 0, available: 1_000 - 13 });
  });
});

describe("mid-stream endings", () => {
  /** Opens a stream with fetch and reads it until `enough` SSE events arrived, then aborts. */
  async function readThenAbort(url: string, body: unknown, headers: Record<string, string>, enough: (events: string[]) => boolean) {
    const controller = new AbortController();
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${agentKey}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the stream ended before the client left");
      buffered += decoder.decode(value, { stream: true });
      const events = buffered.split("\n\n").slice(0, -1);
      if (enough(events)) break;
    }
    controller.abort();
    await reader.cancel().catch(() => undefined);
    return res;
  }

  it("a client that disconnects is charged the reported input and the delivered output, below the full call", async () => {
    const before = await balance();
    const calls = origin.log.length;
    const body = { model: "fake-llm-1", max_tokens: 1024, system: SYSTEM, messages: [{ role: "user", content: USER }], stream: true };
    const res = await readThenAbort(
      `${gw.url}/s/claude/v1/messages`,
      body,
      { "x-fake-tokens": "200", "x-fake-delay-ms": "50" },
      (events) => events.filter((e) => e.includes("content_block_delta")).length >= 4,
    );
    const hold = Number(res.headers.get("tollgate-hold"));
    const t = await settled(res.headers.get("tollgate-request-id"), before);
    const full = 99 + 200 * 15;
    console.log(`[e2e] Anthropic disconnect: charged ${t.amount} of a full ${full} (hold ${hold}), usage ${JSON.stringify(t.usage)}`);
    expect(t).toMatchObject({ kind: "capture", reason: "client_disconnected", usage: { input_tokens: INPUT, estimated: true } });
    // At least the 4 deltas read ("Tollgate meters every token" = 27 characters ≈ 7 tokens), far fewer than 200.
    expect(t.usage.output_tokens).toBeGreaterThanOrEqual(7);
    expect(t.usage.output_tokens).toBeLessThan(100);
    expect(t.amount).toBe(99 + t.usage.output_tokens * 15);
    expect(t.amount).toBeGreaterThan(0);
    expect(t.amount).toBeLessThan(full);
    expect(t.amount).toBeLessThanOrEqual(hold);
    // The origin saw the client go: its stream was cancelled, not run to the end.
    const call = origin.log[calls];
    await eventually(
      async () => call?.ended,
      (ended) => expect(ended).toBe("client_closed"),
    );
    expect(call?.writes.length).toBeLessThan(50);
  });

  it("a disconnect before any usage report: input estimated from the request, output from the text", async () => {
    const before = await balance();
    const body = { model: "fake-llm-1", messages: chatMessages, stream: true, stream_options: { include_usage: true } };
    const res = await readThenAbort(
      `${gw.url}/s/llm/v1/chat/completions`,
      body,
      { "x-fake-tokens": "200", "x-fake-delay-ms": "50" },
      (events) => events.length >= 5,
    );
    const t = await settled(res.headers.get("tollgate-request-id"), before);
    const input = Math.ceil(JSON.stringify(body).length / 4);
    console.log(
      `[e2e] OpenAI chat disconnect: charged ${t.amount} of a full ${ceil(INPUT, CHAT.input) + ceil(200, CHAT.output)}, usage ${JSON.stringify(t.usage)}`,
    );
    expect(t).toMatchObject({ reason: "client_disconnected", usage: { input_tokens: input, cached_input_tokens: 0, estimated: true } });
    expect(t.usage.output_tokens).toBeGreaterThanOrEqual(Math.ceil("Tollgate meters every token".length / 4));
    expect(t.usage.output_tokens).toBeLessThan(100);
    expect(t.amount).toBe(ceil(input, CHAT.input) + ceil(t.usage.output_tokens, CHAT.output));
    expect(t.amount).toBeLessThan(ceil(INPUT, CHAT.input) + ceil(200, CHAT.output));
  });

  it("an origin that fails mid-stream is charged what it delivered (default on_failure), reason origin_failed", async () => {
    const before = await balance();
    const { data: stream, response } = await anthropic.messages
      .create(
        { model: "fake-llm-1", max_tokens: 256, system: SYSTEM, messages: [{ role: "user", content: USER }], stream: true },
        { headers: { "x-fake-fail-after": "6" } },
      )
      .withResponse();
    let text = "";
    const failure = await (async () => {
      for await (const event of stream) if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
    })().catch((e: unknown) => e);
    // The gateway ends the cut stream with an SSE `error` event, which the SDK raises.
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect((failure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error", error: { code: "origin_failed" } });
    // message_start, content_block_start, ping, then 3 deltas: "Tollgate meters every" (21 characters).
    expect(text).toBe("Tollgate meters every");
    const t = await settled(response.headers.get("tollgate-request-id"), before);
    // Input as reported at message_start (33 × 3 = 99); output ⌈21 / 4⌉ = 6 delivered tokens × 15 = 90.
    expect(t).toMatchObject({
      kind: "capture",
      amount: 189,
      reason: "origin_failed",
      shortfall: 0,
      usage: { input_tokens: INPUT, cached_input_tokens: 0, output_tokens: 6, estimated: true },
    });
  });

  it("on_failure none: an origin that fails mid-stream costs nothing", async () => {
    const before = await balance();
    const strict = new OpenAI({ apiKey: agentKey, baseURL: `${gw.url}/s/llm-strict/v1`, maxRetries: 0 });
    const { data: stream, response } = await strict.chat.completions
      .create({ model: "fake-llm-1", messages: chatMessages, stream: true, stream_options: { include_usage: true } }, { headers: { "x-fake-fail-after": "4" } })
      .withResponse();
    let text = "";
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe("origin_failed");
    expect(text).toBe("Tollgate meters every");
    expect(await settled(response.headers.get("tollgate-request-id"), before)).toBeNull();
    expect(await balance()).toEqual(before);
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

describe("the fake origin's usage function", () => {
  it("is what the tests above rely on", () => {
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
