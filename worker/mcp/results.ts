import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { ApiError, problem } from "../errors";

/**
 * A refused tool call's machine-readable reason: the problem document the HTTP API would have
 * answered (`code`, `status`, `detail`, and its extras such as `price`, `available`, `currency`
 * or `mandate_id`), with `refused: true`.
 */
const RefusalFields = {
  refused: z.literal(true).optional().describe("Present on a refusal (then isError is true and nothing was charged)."),
  code: z.string().optional().describe("The refusal's code, e.g. insufficient_funds, mandate_exceeded, pass_required."),
  detail: z.string().optional(),
  price: z.number().int().optional().describe("insufficient_funds: what the payment needs, in micro-units."),
  available: z.number().int().optional().describe("insufficient_funds: what the account has available."),
  mandate_id: z.string().optional().describe("mandate_*: the mandate that refused."),
};

/**
 * A tool's output schema: its result's fields, or a refusal's. MCP clients check structured
 * content against the declared schema on errors too, so both shapes must fit one object schema;
 * on success every result field is present.
 */
export function outputOf<S extends z.ZodRawShape>(shape: S) {
  return z.object(shape).partial().extend(RefusalFields).catchall(z.unknown());
}

/** A successful result: the structured content and the same as JSON text, for clients that read only text. */
export function success(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(structured) }], structuredContent: structured };
}

/** A refusal as a tool result: the problem as text and as structured content, isError set. */
export function refusal(err: ApiError): CallToolResult {
  const doc = problem(err.code, err.message, err.extra);
  const { type: _type, title: _title, ...reason } = doc;
  return {
    content: [{ type: "text", text: `${doc.title}: ${doc.detail} (${JSON.stringify(reason)})` }],
    structuredContent: { refused: true, ...reason },
    isError: true,
  };
}

/** Runs a tool's work; the API's own refusals (ApiError) become refusal results, anything else stays an error. */
export async function answer(work: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    return success(await work());
  } catch (err) {
    if (err instanceof ApiError) return refusal(err);
    throw err;
  }
}
