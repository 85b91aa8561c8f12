import { z } from "@hono/zod-openapi";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { Problem } from "../routes/common";

/**
 * `/mcp` is a JSON-RPC endpoint, not a JSON API route: this documents it by hand so /openapi.json
 * lists every endpoint. Its tools and their schemas are what `tools/list` answers (docs/MCP.md).
 */
export function documentMcp(app: OpenAPIHono<AppEnv>): void {
  const JsonRpc = z.object({ jsonrpc: z.literal("2.0"), id: z.union([z.string(), z.number()]).optional(), method: z.string(), params: z.unknown().optional() });
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/mcp",
    summary: "The payment MCP server (agent key): Streamable HTTP, stateless, JSON answers",
    description:
      "JSON-RPC 2.0 per the Model Context Protocol (initialize, tools/list, tools/call). Send `Accept: application/json, text/event-stream`. " +
      "Tools: get_balance, list_services, get_pricing, call_service, list_transfers, buy_pass, send_tip (docs/MCP.md). " +
      "Malformed JSON-RPC is answered 400 and a missing Accept 406, each with a JSON-RPC error body; " +
      "GET and DELETE answer 405: there is no session and no server-initiated stream.",
    security: [{ bearer: [] }],
    request: { body: { required: true, content: { "application/json": { schema: JsonRpc } } } },
    responses: {
      200: { description: "The JSON-RPC response; a refused payment is a tool result with isError and its reason in structuredContent." },
      202: { description: "Only notifications or responses were sent." },
      401: { description: "unauthorized, invalid_key (only an agent key reaches the server)", content: { "application/problem+json": { schema: Problem } } },
    },
  });
}
