/**
 * What bounds an LLM call's charge, end to end (`wrangler dev` in front of demo/llm-origin.ts,
 * the official `openai` and `@anthropic-ai/sdk` clients): the hold lowered by `max_tokens`, 402
 * below the hold with nothing forwarded, and streams cut short, by a client that disconnects or
 * an origin that fails mid-stream (charged what was delivered, or nothing under on_failure none).
 * Calls that complete: llm-metering.test.ts.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { eventually } from "./harness.ts";
import {
  agentKey,
  anthropic,
  api,
  balance,
  CHAT,
  CLAUDE_HOLD,
  ceil,
  chatMessages,
  gw,
  INPUT,
  LLM_HOLD,
  openai,
  origin,
  SYSTEM,
  settled,
  USER,
  withLlmGateway,
} from "./llm-fixtures.ts";

withLlmGateway();

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
