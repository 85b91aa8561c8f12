import { matchRule, matchToolRule, type PriceRule } from "../../core/pricing/rules";
import { ApiError } from "../errors";
import { INVALID_REQUEST, type JsonRpcId, jsonRpcError, readMcpRequest, TOLLGATE_REFUSED } from "../metering/mcp";
import type { Service } from "../services/store";
import { readRequestBody } from "./body";

/**
 * A call to an `mcp` service (an MCP server over Streamable HTTP), priced before it is forwarded:
 * a `tools/call` by the rule whose `mcp_tool` fits the tool's name; the transport's GET and
 * DELETE, free requests (initialize, ping, the lists), notifications and the client's answers
 * for free — a hold of 0, so the key, freezes, mandate and velocity are checked as for any call.
 */
export type McpCall = {
  rule: PriceRule;
  body: ArrayBuffer | null;
  /** The tool call's JSON-RPC id and name; null for a free message (no pass is drawn for it). */
  tool: { id: string | number; name: string } | null;
};

/** A free message's price: 0, the same as a `per_call: 0` rule. */
const FREE: PriceRule = { match: {}, per_call: 0 };

/**
 * What an `mcp` service's call costs, or the JSON-RPC error that refuses it before anything is
 * held or forwarded. Other HTTP methods are priced as on an http service (rules without `mcp_tool`).
 */
export async function planMcpCall(request: Request, service: Service, path: string): Promise<McpCall | Response> {
  const method = request.method;
  if (method === "GET" || method === "DELETE") return { rule: FREE, body: await readRequestBody(request), tool: null };
  if (method !== "POST") return { rule: ordinaryRule(service, method, path), body: await readRequestBody(request), tool: null };
  // A replay of a tool call would have to be kept by its JSON-RPC answer; MCP clients retry with a
  // new id instead, so the header is refused rather than silently ignored.
  if (request.headers.has("idempotency-key")) throw new ApiError("invalid_request", "Idempotency-Key is not supported on an MCP service.");
  const body = await readRequestBody(request);
  const message = readMcpRequest(body);
  if (message.kind === "invalid") return jsonRpcResponse(400, message.id, message.code, message.message, { code: "invalid_request" });
  // Newer clients repeat the method and tool in headers; an origin may route by them, so they must say what the body says.
  const saidMethod = request.headers.get("mcp-method");
  const saidName = request.headers.get("mcp-name");
  const bodyMethod = message.kind === "tool_call" ? "tools/call" : message.method;
  if ((saidMethod !== null && saidMethod !== bodyMethod) || (saidName !== null && (message.kind !== "tool_call" || saidName !== message.name))) {
    const id = message.kind === "tool_call" ? message.id : null;
    return jsonRpcResponse(400, id, INVALID_REQUEST, "The Mcp-Method or Mcp-Name header does not match the body.", { code: "invalid_request" });
  }
  if (message.kind === "free") return { rule: FREE, body, tool: null };
  const rule = matchToolRule(service.prices, method, path, message.name);
  if (!rule) {
    const detail = `No price rule of '${service.slug}' matches the tool '${message.name.slice(0, 128)}'.`;
    return jsonRpcResponse(200, message.id, TOLLGATE_REFUSED, detail, { code: "no_price", status: 404 });
  }
  return { rule, body, tool: { id: message.id, name: message.name } };
}

function ordinaryRule(service: Service, method: string, path: string): PriceRule {
  const rule = matchRule(service.prices, method, path);
  if (!rule) throw new ApiError("no_price", `No price rule of '${service.slug}' matches ${method} ${path}.`);
  return rule;
}

/**
 * A refusal of a tool call as the MCP client understands it: a JSON-RPC error with the call's id,
 * Tollgate's code and details in `data`, over HTTP 200 (a non-2xx answer is a transport failure
 * to an MCP client). An authentication failure stays an HTTP 401 (the client's auth flow).
 */
export function toolRefusal(id: string | number, err: ApiError): Response {
  if (err.status === 401) throw err;
  const headers = { ...err.headers };
  return jsonRpcResponse(200, id, TOLLGATE_REFUSED, err.message, { code: err.code, status: err.status, ...err.extra }, headers);
}

function jsonRpcResponse(
  status: 200 | 400,
  id: JsonRpcId,
  code: number,
  message: string,
  data: Record<string, unknown>,
  headers: Record<string, string> = {},
): Response {
  return new Response(jsonRpcError(id, code, message, data), { status, headers: { "content-type": "application/json", "tollgate-charge": "0", ...headers } });
}
