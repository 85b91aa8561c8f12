/**
 * A small demo origin (node:http, no dependencies) for the quickstart and the tests. It plays a
 * provider's API behind Tollgate:
 *   any  /echo…          → 200 JSON: the method, path, query, headers and body it received
 *   GET  /status/{code}  → that status with a JSON body
 *   GET  /slow?ms=N      → 200 after N ms
 *   GET  /stream?chunks=N&ms=M[&fail=K] → 200 text/event-stream, N events `data: chunk i` one every
 *                          M ms (a long answer); with `fail`, the connection drops after K events
 *   GET  /redirect       → 302 to /echo on this origin
 *   GET  /redirect/absolute → 302 to this origin's own absolute URL of /echo/moved
 *   GET  /redirect/to?location=… → 302 to exactly that Location (tests: other hosts, prefixes)
 *   POST /v1/translate   → 200 {"translation": …} (the quickstart's paid call)
 * Run it with `npm run demo:origin` (port 9000, or the PORT environment variable).
 */
import { type Listening, listenLocal } from "./listen.ts";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://origin.local");
  const body = await readBody(req);
  if (url.pathname.startsWith("/echo")) {
    return send(res, 200, {
      method: req.method,
      path: url.pathname,
      query: url.search,
      headers: req.headers,
      body,
    });
  }
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) return send(res, Number(status[1]), { status: Number(status[1]) });
  if (url.pathname === "/slow") {
    const ms = Math.min(Number(url.searchParams.get("ms") ?? 1000), 60_000);
    await new Promise((r) => setTimeout(r, ms));
    return send(res, 200, { slept_ms: ms });
  }
  if (url.pathname === "/stream") return stream(res, url.searchParams);
  if (url.pathname === "/redirect") return send(res, 302, { moved: true }, { location: "/echo" });
  if (url.pathname === "/redirect/absolute") {
    return send(res, 302, { moved: true }, { location: `http://${req.headers.host ?? "127.0.0.1"}/echo/moved?from=absolute` });
  }
  if (url.pathname === "/redirect/to") return send(res, 302, { moved: true }, { location: url.searchParams.get("location") ?? "/" });
  if (url.pathname === "/v1/translate" && req.method === "POST") {
    const text = (JSON.parse(body || "{}") as { text?: string }).text ?? "";
    return send(res, 200, { translation: text.split("").reverse().join(""), characters: text.length });
  }
  return send(res, 404, { error: "not found" });
}

async function stream(res: ServerResponse, q: URLSearchParams): Promise<void> {
  const chunks = Math.min(Number(q.get("chunks") ?? 10), 10_000);
  const ms = Math.min(Number(q.get("ms") ?? 100), 60_000);
  const fail = q.has("fail") ? Number(q.get("fail")) : null;
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  for (let i = 0; i < chunks; i++) {
    if (i === fail) return void res.destroy();
    if (i > 0) await new Promise((r) => setTimeout(r, ms));
    if (res.destroyed) return;
    res.write(`data: chunk ${i}\n\n`);
  }
  res.end();
}

export type RunningOrigin = Listening;

/** Starts the demo origin on 127.0.0.1 (port 0 picks a free one). */
export function startOrigin(port = 0): Promise<RunningOrigin> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  return listenLocal(server, port);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const origin = await startOrigin(Number(process.env.PORT ?? 9000));
  console.log(`demo origin listening on ${origin.url}`);
}
