/**
 * A fake LLM origin (node:http, no dependencies) that speaks the OpenAI and Anthropic wire formats,
 * JSON and SSE, with deterministic usage, for the demo and the metering tests:
 *   POST /v1/chat/completions → OpenAI Chat Completions (JSON, or SSE with `stream: true`; the final
 *                               usage chunk when `stream_options.include_usage`; then `data: [DONE]`)
 *   POST /v1/responses        → OpenAI Responses (JSON `object: "response"`, or typed SSE events
 *                               `response.created` … `response.output_text.delta` … `response.completed`)
 *   POST /v1/messages         → Anthropic Messages (JSON `type: "message"`, or SSE `message_start` …
 *                               `content_block_delta` … `message_delta` … `message_stop`)
 *   any  /units/{n}           → 200 JSON with the `tollgate-units: n` response header (units meter)
 *   any  /bytes/{n}           → 200 text/plain of exactly n bytes, in 1 KiB writes (bytes meter)
 *   any  /jobs                → 202 JSON, a job whose usage is reported later (deferred units)
 *
 * Usage is a documented function of the request, so a test can compute the exact charge:
 *   input tokens  = INPUT_OVERHEAD + the whitespace-separated words of every text the request
 *                   carries (system / instructions, and each message's or input item's text);
 *   output tokens = min(the request's max_tokens / max_completion_tokens / max_output_tokens,
 *                   the `x-fake-tokens` header, or DEFAULT_TOKENS). One token is one word of
 *                   WORDS, and a stream sends one token per content event;
 *   cached tokens = min(`x-fake-cached`, input tokens): reported the way each API does (OpenAI:
 *                   inside the prompt total as `cached_tokens`; Anthropic: apart, as
 *                   `cache_read_input_tokens`).
 * Test controls, as request headers:
 *   x-fake-delay-ms: N    delay between SSE events (JSON: before the response)
 *   x-fake-fail-after: N  destroy the socket after N SSE events (JSON: after the first N×16 bytes)
 *   x-fake-split: 1       write each SSE event in two pieces (split mid-event) to exercise parsers
 * Every response is recorded in `log` (request id, timestamps of each write, how it ended).
 * Run it with `npm run demo:llm` (port 9100, or the PORT environment variable).
 */
import { listenLocal } from "./listen.ts";
import { type LoggedCall, type Sse, Writer } from "./llm-writer.ts";
import { type Api, type FakeUsage, fakeUsage, generatedTokens, header, MODEL } from "./llm-usage.ts";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export { DEFAULT_TOKENS, fakeUsage, generatedTokens, INPUT_OVERHEAD, inputTokens, MODEL, WORDS } from "./llm-usage.ts";
export type { Api, FakeUsage } from "./llm-usage.ts";

type Json = Record<string, unknown>;

export type { LoggedCall } from "./llm-writer.ts";

let counter = 0;
const fakeId = (prefix: string) => `${prefix}${Date.now().toString(36)}${(++counter).toString(36).padStart(4, "0")}`;

function chat(body: Json, u: FakeUsage, w: Writer): Promise<void> {
  const id = fakeId("chatcmpl-fake");
  const created = Math.floor(Date.now() / 1000);
  const tokens = generatedTokens(u.output);
  const finish = u.limited ? "length" : "stop";
  const usage = {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  const base = { id, object: "chat.completion.chunk", created, model: MODEL, service_tier: "default", system_fingerprint: "fp_fake" };
  if (!body.stream) {
    return w.json(200, {
      ...base,
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: tokens.join(""), refusal: null, annotations: [] }, logprobs: null, finish_reason: finish }],
      usage,
    });
  }
  const withUsage = (body.stream_options as Json | undefined)?.include_usage === true;
  const chunk = (delta: Json, finish_reason: string | null): Sse => ({
    data: { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }], ...(withUsage ? { usage: null } : {}) },
  });
  const events: Sse[] = [chunk({ role: "assistant", content: "", refusal: null }, null), ...tokens.map((t) => chunk({ content: t }, null)), chunk({}, finish)];
  if (withUsage) events.push({ data: { ...base, choices: [], usage } });
  events.push({ data: "[DONE]" });
  return w.sse(events);
}

function responses(body: Json, u: FakeUsage, w: Writer): Promise<void> {
  const id = fakeId("resp_fake");
  const itemId = fakeId("msg_fake");
  const tokens = generatedTokens(u.output);
  const text = tokens.join("");
  const part = { type: "output_text", text, annotations: [], logprobs: [] };
  const item = (status: string, content: unknown[]) => ({ id: itemId, type: "message", status, role: "assistant", content });
  const response = (status: string, output: unknown[], usage: unknown) => ({
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    background: false,
    error: null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: MODEL,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage,
    user: null,
    metadata: {},
  });
  const usage = {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input + u.output,
  };
  const final = u.limited ? "incomplete" : "completed";
  if (!body.stream) return w.json(200, response(final, [item(final, [part])], usage));
  let seq = 0;
  const ev = (type: string, fields: Json): Sse => ({ event: type, data: { type, ...fields, sequence_number: seq++ } });
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  return w.sse([
    ev("response.created", { response: response("in_progress", [], null) }),
    ev("response.in_progress", { response: response("in_progress", [], null) }),
    ev("response.output_item.added", { output_index: 0, item: item("in_progress", []) }),
    ev("response.content_part.added", { ...at, part: { ...part, text: "" } }),
    ...tokens.map((delta) => ev("response.output_text.delta", { ...at, delta, logprobs: [] })),
    ev("response.output_text.done", { ...at, text, logprobs: [] }),
    ev("response.content_part.done", { ...at, part }),
    ev("response.output_item.done", { output_index: 0, item: item(final, [part]) }),
    ev(`response.${final}`, { response: response(final, [item(final, [part])], usage) }),
  ]);
}

function messages(body: Json, u: FakeUsage, w: Writer): Promise<void> {
  const id = fakeId("msg_fake");
  const tokens = generatedTokens(u.output);
  const stop = u.limited ? "max_tokens" : "end_turn";
  const usage = (output: number) => ({
    input_tokens: u.input - u.cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: u.cached,
    output_tokens: output,
    service_tier: "standard",
  });
  const message = (content: unknown[], stop_reason: string | null, output: number) => ({
    id,
    type: "message",
    role: "assistant",
    model: MODEL,
    content,
    stop_reason,
    stop_sequence: null,
    usage: usage(output),
  });
  if (!body.stream) return w.json(200, message([{ type: "text", text: tokens.join(""), citations: null }], stop, u.output));
  const ev = (type: string, fields: Json = {}): Sse => ({ event: type, data: { type, ...fields } });
  return w.sse([
    ev("message_start", { message: message([], null, 1) }),
    ev("content_block_start", { index: 0, content_block: { type: "text", text: "", citations: null } }),
    ev("ping"),
    ...tokens.map((text) => ev("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
    ev("content_block_stop", { index: 0 }),
    ev("message_delta", { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: u.output } }),
    ev("message_stop"),
  ]);
}

const API_PATHS: Record<string, Api> = { "/v1/chat/completions": "chat", "/v1/responses": "responses", "/v1/messages": "messages" };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function handle(req: IncomingMessage, res: ServerResponse, log: LoggedCall[]): Promise<void> {
  const url = new URL(req.url ?? "/", "http://origin.local");
  const raw = await readBody(req);
  const call: LoggedCall = { path: url.pathname, requestId: (req.headers["tollgate-request-id"] as string | undefined) ?? null, writes: [], ended: null };
  log.push(call);
  const w = new Writer(res, call, {
    delayMs: Math.min(header(req.headers, "x-fake-delay-ms") ?? 0, 10_000),
    failAfter: header(req.headers, "x-fake-fail-after"),
    split: req.headers["x-fake-split"] === "1",
  });
  const api = API_PATHS[url.pathname];
  if (api && req.method === "POST") {
    let body: Json;
    try {
      body = JSON.parse(raw || "{}") as Json;
    } catch {
      return w.json(400, { error: { type: "invalid_request_error", message: "The body is not JSON." } });
    }
    const u = fakeUsage(api, body, req.headers);
    if (api === "chat") return chat(body, u, w);
    if (api === "responses") return responses(body, u, w);
    return messages(body, u, w);
  }
  const units = /^\/units\/(\d{1,9})$/.exec(url.pathname);
  if (units) return w.json(200, { units: Number(units[1]) }, { "tollgate-units": units[1] as string });
  const bytes = /^\/bytes\/(\d{1,9})$/.exec(url.pathname);
  if (bytes) {
    const n = Number(bytes[1]);
    res.writeHead(200, { "content-type": "text/plain" });
    for (let sent = 0; sent < n; sent += 1024) {
      call.writes.push(Date.now());
      res.write("x".repeat(Math.min(1024, n - sent)));
    }
    res.end();
    call.ended = "complete";
    return;
  }
  if (url.pathname === "/jobs") return w.json(202, { id: fakeId("job_"), status: "queued" });
  return w.json(404, { error: { type: "not_found_error", message: `No route ${req.method} ${url.pathname}.` } });
}

export type RunningLlmOrigin = { url: string; port: number; server: Server; log: LoggedCall[]; close: () => Promise<void> };

/** Starts the fake LLM origin on 127.0.0.1 (port 0 picks a free one). */
export function startLlmOrigin(port = 0): Promise<RunningLlmOrigin> {
  const log: LoggedCall[] = [];
  const server = createServer((req, res) => {
    handle(req, res, log).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { type: "api_error", message: String(err) } }));
    });
  });
  return listenLocal(server, port).then((listening) => ({ ...listening, log }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const origin = await startLlmOrigin(Number(process.env.PORT ?? 9100));
  console.log(`fake LLM origin listening on ${origin.url} (POST /v1/chat/completions, /v1/responses, /v1/messages)`);
}
