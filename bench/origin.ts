/**
 * The benchmark's origin (node:http, no dependencies): a stand-in LLM provider that costs as little
 * as possible, so what the benchmark measures is the gateway in front of it.
 *
 *   any  /v1/chat/completions   200 JSON chat completion with OpenAI-style `usage`; with
 *                               `"stream": true` in the body (or `?stream=1`) an SSE stream instead:
 *                               a role chunk at once, then content chunks, a final usage chunk,
 *                               `data: [DONE]`.
 *   any  /health                200 "ok"
 *
 * Controls (request headers or query parameters; all optional):
 *   x-bench-delay-ms / ?delay_ms=N         wait N ms before the response headers
 *   x-bench-chunks / ?chunks=N             SSE content chunks (default 8)
 *   x-bench-chunk-delay-ms / ?chunk_ms=N   wait N ms between SSE chunks (default 0)
 *
 * Run alone with `tsx bench/origin.ts [--port N]`; it prints one JSON line `{"url": …, "pid": …}`.
 * The harness (bench/run.ts) starts it as its own process so it can be pinned to a CPU apart
 * from workerd.
 */
import { listenLocal } from "../demo/listen.ts";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

const MODEL = "bench-llm-1";
const USAGE = { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 };

/** The JSON answer never changes, so it is serialized once. */
const JSON_BODY = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1_700_000_000,
    model: MODEL,
    choices: [{ index: 0, message: { role: "assistant", content: "Tollgate meters every token that streams through." }, finish_reason: "stop" }],
    usage: USAGE,
  }),
);

const sseEvent = (doc: unknown) => `data: ${JSON.stringify(doc)}\n\n`;
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  sseEvent({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: MODEL,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
const SSE_FIRST = chunk({ role: "assistant", content: "" });
const SSE_WORD = chunk({ content: "token " });
const SSE_LAST =
  chunk({}, "stop") +
  sseEvent({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1_700_000_000, model: MODEL, choices: [], usage: USAGE }) +
  "data: [DONE]\n\n";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function control(req: IncomingMessage, url: URL, header: string, query: string, fallback: number): number {
  const raw = req.headers[header] ?? url.searchParams.get(query);
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw != null && Number.isFinite(n) && n >= 0 ? Math.min(Math.floor(n), 60_000) : fallback;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const part of req) chunks.push(part as Buffer);
  return Buffer.concat(chunks);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://origin.local");
  const body = await readBody(req);
  if (url.pathname === "/health") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
    return;
  }
  if (url.pathname !== "/v1/chat/completions") {
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":"not found"}');
    return;
  }
  const delay = control(req, url, "x-bench-delay-ms", "delay_ms", 0);
  if (delay > 0) await sleep(delay);
  // A cheap look for `"stream":true` rather than a parse: the origin must not be the bottleneck.
  const stream = url.searchParams.get("stream") === "1" || /"stream"\s*:\s*true/.test(body.toString("latin1"));
  if (!stream) {
    res.writeHead(200, { "content-type": "application/json", "content-length": String(JSON_BODY.byteLength) });
    res.end(JSON_BODY);
    return;
  }
  const chunks = control(req, url, "x-bench-chunks", "chunks", 8);
  const gap = control(req, url, "x-bench-chunk-delay-ms", "chunk_ms", 0);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
  res.write(SSE_FIRST);
  for (let i = 0; i < chunks; i++) {
    if (gap > 0) await sleep(gap);
    if (res.destroyed) return;
    res.write(SSE_WORD);
  }
  res.end(SSE_LAST);
}

export type BenchOrigin = { url: string; port: number; server: Server; close: () => Promise<void> };

/** Starts the bench origin on 127.0.0.1 (port 0 picks a free one). */
export function startBenchOrigin(port = 0): Promise<BenchOrigin> {
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: String(err) }));
    });
  });
  server.headersTimeout = 65_000;
  return listenLocal(server, port);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf("--port");
  const origin = await startBenchOrigin(at >= 0 ? Number(process.argv[at + 1]) : Number(process.env.PORT ?? 0));
  console.log(JSON.stringify({ url: origin.url, pid: process.pid }));
  if (process.argv.includes("--exit-with-stdin")) {
    // Started by the harness: when it closes our stdin (or dies), stop.
    process.stdin.on("end", () => process.exit(0));
    process.stdin.on("error", () => process.exit(0));
    process.stdin.resume();
  }
}
