import { describe, expect, it } from "vitest";
import { matchRule, matchToolRule, PriceRule, protocolIssues } from "../../core/pricing/rules";
import { INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, readMcpRequest, ToolAnswer, toolSettlement } from "../../worker/metering/mcp";

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)).buffer as ArrayBuffer;
const call = (name: unknown, id: unknown = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } });

describe("readMcpRequest: what a POST asks for", () => {
  it("reads a tools/call's id and tool name", () => {
    expect(readMcpRequest(bytes(call("search", "a-1")))).toEqual({ kind: "tool_call", id: "a-1", name: "search" });
    expect(readMcpRequest(bytes(call("search", 0)))).toEqual({ kind: "tool_call", id: 0, name: "search" });
  });

  it("passes discovery, session and notifications free", () => {
    for (const method of ["initialize", "ping", "tools/list", "prompts/list", "resources/list"]) {
      expect(readMcpRequest(bytes({ jsonrpc: "2.0", id: 1, method }))).toEqual({ kind: "free", method });
    }
    expect(readMcpRequest(bytes({ jsonrpc: "2.0", method: "notifications/initialized" }))).toEqual({ kind: "free", method: "notifications/initialized" });
    // The client's answer to a request of the server (sampling): no work to price.
    expect(readMcpRequest(bytes({ jsonrpc: "2.0", id: 9, result: {} }))).toEqual({ kind: "free", method: null });
  });

  it("refuses a batch whole (no element slips through), with id null", () => {
    const batch = [{ jsonrpc: "2.0", id: 1, method: "tools/list" }, call("search", 2)];
    expect(readMcpRequest(bytes(batch))).toMatchObject({ kind: "invalid", id: null, code: INVALID_REQUEST });
    expect(readMcpRequest(bytes([]))).toMatchObject({ kind: "invalid", id: null, code: INVALID_REQUEST });
  });

  it("refuses what is not a priced or free message", () => {
    expect(readMcpRequest(bytes("{not json"))).toMatchObject({ kind: "invalid", id: null, code: PARSE_ERROR });
    expect(readMcpRequest(null)).toMatchObject({ kind: "invalid", code: PARSE_ERROR });
    expect(readMcpRequest(bytes(call(undefined, 4)))).toMatchObject({ kind: "invalid", id: 4, code: INVALID_PARAMS });
    expect(readMcpRequest(bytes(call(42, 4)))).toMatchObject({ kind: "invalid", id: 4, code: INVALID_PARAMS });
    // A tools/call without an id would run as a notification: refused, never forwarded free.
    expect(readMcpRequest(bytes({ jsonrpc: "2.0", method: "tools/call", params: { name: "search" } }))).toMatchObject({
      kind: "invalid",
      code: INVALID_REQUEST,
    });
    expect(readMcpRequest(bytes(call("search", null)))).toMatchObject({ kind: "invalid", code: INVALID_REQUEST });
    // Requests Tollgate does not price are refused, not forwarded free.
    expect(readMcpRequest(bytes({ jsonrpc: "2.0", id: 5, method: "resources/read", params: { uri: "x" } }))).toMatchObject({
      kind: "invalid",
      id: 5,
      code: METHOD_NOT_FOUND,
    });
    expect(readMcpRequest(bytes({ jsonrpc: "2.0", id: 6 }))).toMatchObject({ kind: "invalid", id: 6, code: INVALID_REQUEST });
    expect(readMcpRequest(bytes("3"))).toMatchObject({ kind: "invalid", code: INVALID_REQUEST });
  });

  it("reads what JSON.parse reads (escapes, duplicate keys: the last wins, as at the origin)", () => {
    expect(readMcpRequest(bytes('{"jsonrpc":"2.0","id":1,"method":"tools\\/call","params":{"name":"free","name":"se\\u0061rch"}}'))).toEqual({
      kind: "tool_call",
      id: 1,
      name: "search",
    });
  });
});

/** Feeds `text` to the observer in chunks of `size` bytes (frames split anywhere). */
function observe(answer: ToolAnswer, text: string, size = 7): ToolAnswer {
  const all = new TextEncoder().encode(text);
  for (let i = 0; i < all.length; i += size) answer.chunk(all.slice(i, i + size));
  answer.end();
  return answer;
}

const sse = (...messages: unknown[]) => messages.map((m) => `event: message\ndata: ${JSON.stringify(m)}\n\n`).join("");
const progress = { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1, total: 2 } };

describe("ToolAnswer: the origin's answer to one tool call", () => {
  it("JSON: a result, an isError result, a JSON-RPC error", () => {
    expect(observe(new ToolAnswer(1, false), JSON.stringify({ jsonrpc: "2.0", id: 1, result: { content: [] } })).outcome).toBe("result");
    expect(observe(new ToolAnswer(1, false), JSON.stringify({ jsonrpc: "2.0", id: 1, result: { content: [], isError: true } })).outcome).toBe("error");
    expect(observe(new ToolAnswer(1, false), JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32602, message: "bad" } })).outcome).toBe("error");
    // `isError` must be exactly true; another id is not this call's answer; not JSON: not seen.
    expect(observe(new ToolAnswer(1, false), JSON.stringify({ jsonrpc: "2.0", id: 1, result: { isError: "yes" } })).outcome).toBe("result");
    expect(observe(new ToolAnswer(1, false), JSON.stringify({ jsonrpc: "2.0", id: 2, result: {} })).outcome).toBe(null);
    expect(observe(new ToolAnswer("1", false), JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} })).outcome).toBe(null);
    expect(observe(new ToolAnswer(1, false), "<html>").outcome).toBe(null);
    // Too large to read: a result, never a free ride.
    const huge = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "x".repeat(9 << 20) }], isError: true } });
    expect(observe(new ToolAnswer(1, false), huge, 1 << 20).outcome).toBe("result");
  });

  it("SSE: progress notifications first, the result matched by id", () => {
    const ok = sse(progress, progress, { jsonrpc: "2.0", id: "c7", result: { content: [{ type: "text", text: "done" }] } });
    expect(observe(new ToolAnswer("c7", true), ok).outcome).toBe("result");
    expect(observe(new ToolAnswer("c7", true), ok, 1).outcome).toBe("result");
    const failed = sse(progress, { jsonrpc: "2.0", id: "c7", result: { content: [], isError: true } });
    expect(observe(new ToolAnswer("c7", true), failed, 3).outcome).toBe("error");
    expect(observe(new ToolAnswer(3, true), sse({ jsonrpc: "2.0", id: 3, error: { code: -1, message: "x" } })).outcome).toBe("error");
    // A stream that ended before the answer (only progress): nothing seen.
    expect(observe(new ToolAnswer(3, true), sse(progress)).outcome).toBe(null);
    // Only `message` events count.
    expect(observe(new ToolAnswer(3, true), `event: other\ndata: ${JSON.stringify({ jsonrpc: "2.0", id: 3, result: {} })}\n\n`).outcome).toBe(null);
  });

  it("the first answer decides (a later frame cannot turn a result into an error)", () => {
    const text = sse({ jsonrpc: "2.0", id: 1, result: {} }, { jsonrpc: "2.0", id: 1, error: { code: 1, message: "late" } });
    expect(observe(new ToolAnswer(1, true), text).outcome).toBe("result");
  });
});

describe("toolSettlement", () => {
  it("charges a result, never an error; with no answer only an agent that left is charged", () => {
    expect(toolSettlement("result", "complete")).toEqual({ charge: true, reason: "origin_succeeded" });
    expect(toolSettlement("result", "client_disconnected")).toEqual({ charge: true, reason: "client_disconnected" });
    expect(toolSettlement("error", "complete")).toEqual({ charge: false, reason: "mcp_tool_error" });
    expect(toolSettlement("error", "client_disconnected")).toMatchObject({ charge: false });
    expect(toolSettlement(null, "complete")).toEqual({ charge: false, reason: "mcp_no_result" });
    expect(toolSettlement(null, "origin_failed")).toEqual({ charge: false, reason: "origin_failed_mid_stream" });
    expect(toolSettlement(null, "client_disconnected")).toEqual({ charge: true, reason: "client_disconnected" });
  });
});

describe("mcp_tool rules", () => {
  const rules = [
    PriceRule.parse({ match: { mcp_tool: "search*" }, per_call: 500 }),
    PriceRule.parse({ match: { mcp_tool: "divide" }, per_call: 300 }),
    PriceRule.parse({ match: { path: "/other" }, per_call: 7 }),
  ];

  it("a tool call takes the first rule whose glob fits its name (a rule without mcp_tool fits every tool)", () => {
    expect(matchToolRule(rules, "POST", "/mcp", "search_web")?.per_call).toBe(500);
    expect(matchToolRule(rules, "POST", "/mcp", "divide")?.per_call).toBe(300);
    expect(matchToolRule(rules, "POST", "/mcp", "admin_reset")).toBeNull();
    expect(matchToolRule(rules, "POST", "/other", "admin_reset")?.per_call).toBe(7);
    expect(matchToolRule([PriceRule.parse({ per_call: 1 })], "POST", "/mcp", "anything")?.per_call).toBe(1);
  });

  it("a rule with mcp_tool never prices a plain call", () => {
    expect(matchRule(rules, "POST", "/mcp")).toBeNull();
    expect(matchRule(rules, "GET", "/other")?.per_call).toBe(7);
  });

  it("mcp_tool only on an mcp service; an mcp service's rules are per_call", () => {
    expect(protocolIssues("http", rules)).toEqual([
      { path: "prices.0.match.mcp_tool", message: expect.any(String) },
      { path: "prices.1.match.mcp_tool", message: expect.any(String) },
    ]);
    expect(protocolIssues("mcp", rules)).toEqual([]);
    const metered = PriceRule.parse({ meter: "bytes", rate: { amount: 1, per: 1 }, hold: 10 });
    expect(protocolIssues("mcp", [metered])).toEqual([{ path: "prices.0.meter", message: expect.any(String) }]);
    expect(protocolIssues("http", [metered])).toEqual([]);
    expect(PriceRule.safeParse({ match: { mcp_tool: "" }, per_call: 1 }).success).toBe(false);
    expect(PriceRule.safeParse({ match: { mcp_tool: "a b" }, per_call: 1 }).success).toBe(false);
  });
});
