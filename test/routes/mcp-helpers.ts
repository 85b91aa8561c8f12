/** JSON-RPC to the payment MCP server (/mcp), as an MCP client sends it over Streamable HTTP. */
import { expect } from "vitest";
import { api, call } from "./helpers";

let nextId = 0;

/** The headers a Streamable HTTP client sends with every POST. */
export const MCP_HEADERS = { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18" };

/** One JSON-RPC request to /mcp with `key`: the raw response. */
export function mcpCall(key: string | null, method: string, params: unknown = {}, headers: Record<string, string> = {}) {
  nextId += 1;
  return call("/mcp", { key, method: "POST", headers: { ...MCP_HEADERS, ...headers }, body: { jsonrpc: "2.0", id: nextId, method, params } });
}

/** One JSON-RPC request, answered 200 with a JSON-RPC message: its parsed body. */
export async function mcp(key: string, method: string, params: unknown = {}): Promise<any> {
  const r = await api("/mcp", { key, method: "POST", headers: MCP_HEADERS, body: { jsonrpc: "2.0", id: ++nextId, method, params } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  expect(r.body.jsonrpc).toBe("2.0");
  return r.body;
}

/** tools/call: the tool's result (content, structuredContent, isError). */
export async function tool(key: string, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const body = await mcp(key, "tools/call", { name, arguments: args });
  expect(body.error, JSON.stringify(body.error)).toBeUndefined();
  return body.result;
}

/** A tool call that must succeed: its structured content. */
export async function toolOk(key: string, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result = await tool(key, name, args);
  expect(result.isError, JSON.stringify(result)).toBeFalsy();
  expect(JSON.parse(result.content[0].text)).toEqual(result.structuredContent);
  return result.structuredContent;
}

/** A tool call that must be refused: its structured content (the reason). */
export async function toolRefused(key: string, name: string, args: Record<string, unknown>, code: string): Promise<any> {
  const result = await tool(key, name, args);
  expect(result.isError, JSON.stringify(result)).toBe(true);
  expect(result.structuredContent, JSON.stringify(result)).toMatchObject({ refused: true, code });
  expect(result.content[0].type).toBe("text");
  expect(result.content[0].text).toContain(result.structuredContent.detail);
  return result.structuredContent;
}
