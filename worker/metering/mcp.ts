import { concatBytes } from "@noble/hashes/utils.js";
import { createParser } from "eventsource-parser";
import type { ChunkObserver, StreamOutcome } from "./tap";

/**
 * Reading MCP (Streamable HTTP) traffic as JSON-RPC: what a POST asks for, and whether the
 * origin's answer to a tool call was a result or an error. Parsed with `JSON.parse`, as MCP
 * servers do, so Tollgate reads the same message the origin will.
 */

export type JsonRpcId = string | number | null;

/** JSON-RPC's own codes, and Tollgate's refusal (its code is in the error's `data.code`). */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const TOLLGATE_REFUSED = -32000;

/**
 * Requests that do no paid work and pass free (a hold of 0): the session's start and liveness,
 * discovery, and the client's settings. Every other request method — `resources/read`,
 * `prompts/get`, anything unknown — is refused: Tollgate prices tool calls only, and nothing is
 * forwarded unpriced.
 */
const FREE_METHODS = new Set([
  "initialize",
  "ping",
  "tools/list",
  "resources/list",
  "resources/templates/list",
  "prompts/list",
  "logging/setLevel",
  "completion/complete",
]);

/** What one POST body is, for pricing. */
export type McpRequest =
  | { kind: "tool_call"; id: string | number; name: string }
  /** A free request, a notification, or the client's answer to a request of the server. */
  | { kind: "free"; method: string | null }
  | { kind: "invalid"; id: JsonRpcId; code: number; message: string };

const isId = (v: unknown): v is string | number => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/**
 * Classifies a POST body. A batch (a JSON array) is refused whole: batches left the MCP spec
 * (2025-06-18), and refusing them means no element can slip through unpriced.
 */
export function readMcpRequest(body: ArrayBuffer | null): McpRequest {
  let message: unknown;
  try {
    message = JSON.parse(new TextDecoder().decode(body ?? new ArrayBuffer(0)));
  } catch {
    return { kind: "invalid", id: null, code: PARSE_ERROR, message: "The body is not JSON." };
  }
  if (Array.isArray(message))
    return { kind: "invalid", id: null, code: INVALID_REQUEST, message: "JSON-RPC batches are not accepted; send one message per request." };
  if (typeof message !== "object" || message === null) return { kind: "invalid", id: null, code: INVALID_REQUEST, message: "A JSON-RPC message is an object." };
  const { id, method, params } = message as { id?: unknown; method?: unknown; params?: unknown };
  const echo = isId(id) ? id : null;
  if (method === undefined) {
    // The client's answer to the server's own request (sampling, elicitation): no work to price.
    if ("result" in message || "error" in message) return { kind: "free", method: null };
    return { kind: "invalid", id: echo, code: INVALID_REQUEST, message: "A JSON-RPC message needs a method, a result or an error." };
  }
  if (typeof method !== "string") return { kind: "invalid", id: echo, code: INVALID_REQUEST, message: "method must be a string." };
  if (method === "tools/call") {
    if (!isId(id)) return { kind: "invalid", id: null, code: INVALID_REQUEST, message: "A tools/call needs an id (a string or a number)." };
    const name = (params as { name?: unknown } | undefined)?.name;
    if (typeof name !== "string" || name === "")
      return { kind: "invalid", id, code: INVALID_PARAMS, message: "A tools/call needs params.name, the tool's name." };
    return { kind: "tool_call", id, name };
  }
  // A notification (no id) asks for no answer and no work to price.
  if (id === undefined || FREE_METHODS.has(method)) return { kind: "free", method };
  return { kind: "invalid", id: echo, code: METHOD_NOT_FOUND, message: `'${method.slice(0, 64)}' is not served through Tollgate: only tool calls are priced.` };
}

/** A JSON-RPC error answer. */
export function jsonRpcError(id: JsonRpcId, code: number, message: string, data?: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } });
}

/** How the origin answered the tool call: a result, an error (JSON-RPC or `isError`), or not seen. */
export type ToolOutcome = "result" | "error" | null;

/** A JSON answer is kept up to this size to read it; beyond, it counts as a result. */
const MAX_JSON_ANSWER = 8 << 20;

function outcomeOf(message: unknown, id: string | number): ToolOutcome {
  if (typeof message !== "object" || message === null || (message as { id?: unknown }).id !== id) return null;
  if ("error" in message) return "error";
  if (!("result" in message)) return null;
  const result = (message as { result?: unknown }).result;
  return typeof result === "object" && result !== null && (result as { isError?: unknown }).isError === true ? "error" : "result";
}

/**
 * Watches the origin's answer to one tool call as it streams to the agent: a JSON body, or SSE
 * `message` events where notifications (progress) may come first. The answer is the message
 * with the call's `id` and a `result` or an `error`.
 */
export class ToolAnswer implements ChunkObserver {
  outcome: ToolOutcome = null;
  private readonly decoder = new TextDecoder();
  private readonly sse;
  private json: Uint8Array[] | null = [];
  private jsonBytes = 0;

  constructor(
    private readonly id: string | number,
    private readonly streaming: boolean,
  ) {
    this.sse = createParser({
      onEvent: (event) => {
        if (this.outcome !== null || (event.event !== undefined && event.event !== "message")) return;
        try {
          this.outcome = outcomeOf(JSON.parse(event.data), this.id);
        } catch {
          // Not JSON: not the answer.
        }
      },
    });
  }

  chunk(bytes: Uint8Array): void {
    if (this.streaming) {
      if (this.outcome === null) this.sse.feed(this.decoder.decode(bytes, { stream: true }));
    } else if (this.json) {
      this.jsonBytes += bytes.byteLength;
      // Too large to read: taken for a result (charged), so a large answer is never free.
      if (this.jsonBytes > MAX_JSON_ANSWER) {
        this.json = null;
        this.outcome = "result";
      } else this.json.push(bytes);
    }
  }

  end(): void {
    if (this.streaming || !this.json) return;
    try {
      this.outcome = outcomeOf(JSON.parse(new TextDecoder().decode(concatBytes(...this.json))), this.id);
    } catch {
      // Not JSON: no answer seen.
    }
  }
}

/**
 * What a tool call costs once its answer has streamed: a result is charged (even if the agent
 * left after it), an error is not; with no answer seen, an origin that failed or ended without
 * answering costs nothing, and an agent that left first is charged (the tool ran; its price
 * never depended on delivery, as a per-call price's does not).
 */
export function toolSettlement(outcome: ToolOutcome, delivery: StreamOutcome): { charge: true; reason: string } | { charge: false; reason: string } {
  if (outcome === "error") return { charge: false, reason: "mcp_tool_error" };
  if (outcome === "result") return { charge: true, reason: delivery === "complete" ? "origin_succeeded" : delivery };
  if (delivery === "client_disconnected") return { charge: true, reason: "client_disconnected" };
  return { charge: false, reason: delivery === "origin_failed" ? "origin_failed_mid_stream" : "mcp_no_result" };
}

export function isEventStream(response: Response): boolean {
  return (response.headers.get("content-type") ?? "").includes("text/event-stream");
}
