import type { PriceRule, RequestBound } from "../../core/pricing/rules";

/** Request bodies larger than this are not read for a bound; the rule's full hold applies. */
export const MAX_BOUND_BODY = 1 << 20;

/**
 * Reads an LLM request's own bounds: output from `max_tokens` / `max_completion_tokens` /
 * `max_output_tokens`, input from the body's size (a token is at least one byte of the text, and
 * the body's JSON is longer than its text). Null when the request states no output bound, or
 * when its input is not all in the body (see `carriesItsInput`).
 */
export function requestBound(body: ArrayBuffer): RequestBound | null {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null;
  }
  if (typeof doc !== "object" || doc === null) return null;
  const d = doc as Record<string, unknown>;
  // When several are sent, the largest bounds whichever one the origin honours.
  const stated = [d.max_tokens, d.max_completion_tokens, d.max_output_tokens].filter((v) => v !== undefined && v !== null);
  if (stated.length === 0 || !stated.every((v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0)) return null;
  const max = Math.max(...(stated as number[]));
  if (!carriesItsInput(d)) return null;
  // `n` (and legacy `best_of`) choices each generate up to the bound.
  const choices = [d.n, d.best_of].reduce<number>((most, v) => (typeof v === "number" && Number.isSafeInteger(v) && v > most ? v : most), 1);
  const output = max * choices;
  if (!Number.isSafeInteger(output)) return null;
  return { inputTokens: body.byteLength, outputTokens: output };
}

/** Keys of input the body only refers to: stored conversations, media and files, server tools. */
const REFERENCE_KEYS = new Set([
  "previous_response_id",
  "conversation",
  "image_url",
  "file_id",
  "file_url",
  "file_data",
  "input_audio",
  "mcp_servers",
  "container",
  "web_search_options",
]);
/** Content part types priced by their media, not by their bytes in the body. */
const MEDIA_TYPES = new Set(["image", "input_image", "image_url", "input_file", "file", "document", "input_audio", "container_upload"]);

/**
 * Whether the body's bytes bound its input tokens: not when it refers to input held elsewhere (a
 * previous response, a conversation, a prompt template, media or files), nor with tools (server
 * tools add their results as input; tool use adds a system prompt). Then the full hold applies.
 */
function carriesItsInput(d: Record<string, unknown>): boolean {
  if (Array.isArray(d.tools) && d.tools.length > 0) return false;
  if (typeof d.prompt === "object" && d.prompt !== null && !Array.isArray(d.prompt)) return false;
  const stack: unknown[] = [d];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === "object" && item !== null) stack.push(item);
    } else if (typeof v === "object" && v !== null) {
      for (const [key, value] of Object.entries(v)) {
        if (value == null) continue;
        if (REFERENCE_KEYS.has(key) || (key === "type" && typeof value === "string" && MEDIA_TYPES.has(value))) return false;
        if (typeof value === "object") stack.push(value);
      }
    }
  }
  return true;
}

/** For a tokens rule, a JSON request body of modest size bounds the hold by its own `max_tokens`. */
export function callBound(request: Request, rule: PriceRule, body: ArrayBuffer | null): RequestBound | null {
  if (rule.meter !== "tokens" || !body || body.byteLength > MAX_BOUND_BODY) return null;
  if (!(request.headers.get("content-type") ?? "").includes("json")) return null;
  return requestBound(body);
}
