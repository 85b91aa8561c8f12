import type { RequestBound } from "../pricing/rules";

/** Request bodies larger than this are not read for a bound; the rule's full hold applies. */
export const MAX_BOUND_BODY = 1 << 20;

/**
 * Reads an LLM request's own bounds: output from `max_tokens` / `max_completion_tokens` /
 * `max_output_tokens`, input from the body's size (a token is at least one byte of the text, and
 * the body's JSON is longer than its text). Null when the request states no output bound.
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
  const max = [d.max_tokens, d.max_completion_tokens, d.max_output_tokens].find((v) => typeof v === "number");
  if (typeof max !== "number" || !Number.isSafeInteger(max) || max < 0) return null;
  return { inputTokens: body.byteLength, outputTokens: max };
}
