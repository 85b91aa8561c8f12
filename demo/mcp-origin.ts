/**
 * A demo MCP origin: an MCP server (the official SDK's `McpServer`) over Streamable HTTP on
 * node:http, stateless (a new server and transport per request), for a provider that charges per
 * tool call through Tollgate (docs/METERING.md, "MCP services"). Tools:
 *   search {query}      → a text result
 *   divide {a, b}       → a / b; b = 0 answers a result with `isError: true` (not charged)
 *   count {n}           → sends n progress notifications (when the client asked for them), then a result
 *   admin_reset {}      → a tool the tests leave unpriced (Tollgate must refuse it before forwarding)
 * Endpoints: POST/GET/DELETE /mcp (SSE answers, the SDK's default) and /mcp-json (JSON answers);
 * GET /calls → how many tool calls of each name reached the server (the tests read it).
 * Run it with `npm run demo:mcp` (port 9200, or the PORT environment variable).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { type Listening, listenLocal } from "./listen.ts";

export type RunningMcpOrigin = Listening & { calls: Map<string, number> };

function mcpServer(calls: Map<string, number>): McpServer {
  const server = new McpServer({ name: "tollgate-demo-mcp", version: "1.0.0" });
  const seen = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  server.registerTool("search", { description: "Search the demo corpus.", inputSchema: { query: z.string() } }, async ({ query }) => {
    seen("search");
    return { content: [{ type: "text", text: `3 results for '${query}'` }] };
  });
  server.registerTool(
    "divide",
    { description: "a / b; dividing by zero is a tool error.", inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => {
      seen("divide");
      if (b === 0) return { content: [{ type: "text", text: "cannot divide by zero" }], isError: true };
      return { content: [{ type: "text", text: String(a / b) }] };
    },
  );
  server.registerTool(
    "count",
    { description: "Counts to n, reporting progress.", inputSchema: { n: z.number().int().min(1).max(100) } },
    async ({ n }, extra) => {
      seen("count");
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        if (token !== undefined) await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: i, total: n } });
      }
      return { content: [{ type: "text", text: `counted to ${n}` }] };
    },
  );
  server.registerTool("admin_reset", { description: "Left unpriced by the tests." }, async () => {
    seen("admin_reset");
    return { content: [{ type: "text", text: "reset" }] };
  });
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, calls: Map<string, number>): Promise<void> {
  const path = new URL(req.url ?? "/", "http://origin.local").pathname;
  if (path === "/calls") {
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(JSON.stringify(Object.fromEntries(calls)));
  }
  if (path !== "/mcp" && path !== "/mcp-json") {
    res.writeHead(404, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ error: "not found" }));
  }
  // Stateless: a transport serves one request, and a server connects to one transport.
  const server = mcpServer(calls);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: path === "/mcp-json" });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}

/** Starts the demo MCP origin on 127.0.0.1 (port 0 picks a free one). */
export async function startMcpOrigin(port = 0): Promise<RunningMcpOrigin> {
  const calls = new Map<string, number>();
  const server = createServer((req, res) => {
    handle(req, res, calls).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: String(err) }));
    });
  });
  return { ...(await listenLocal(server, port)), calls };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const origin = await startMcpOrigin(Number(process.env.PORT ?? 9200));
  console.log(`demo MCP origin listening on ${origin.url}/mcp (SSE answers) and ${origin.url}/mcp-json (JSON answers)`);
}
