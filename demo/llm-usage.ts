/**
 * The fake LLM origin's usage (demo/llm-origin.ts): a documented function of the request, so a
 * test can compute the exact charge of any call (the rules are in llm-origin.ts's header).
 */
export const DEFAULT_TOKENS = 12;
/** Tokens every request costs on top of its words (role markers, the chat template). */
export const INPUT_OVERHEAD = 7;
export const WORDS = ["Tollgate", "meters", "every", "token", "that", "streams", "through", "the", "edge,", "café", "—", "settled."];
export const MODEL = "fake-llm-1";

export type Api = "chat" | "responses" | "messages";
/** `limited`: generation stopped at the request's own bound (finish_reason "length", "max_tokens"). */
export type FakeUsage = { input: number; cached: number; output: number; limited: boolean };
type Json = Record<string, unknown>;

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** The words of every text in a content value: a string, or parts / items carrying `text` or `content`. */
function textWords(content: unknown): number {
  if (typeof content === "string") return words(content);
  if (Array.isArray(content)) return content.reduce<number>((n, part) => n + textWords(part), 0);
  if (typeof content === "object" && content !== null) {
    const part = content as Json;
    if (typeof part.text === "string") return words(part.text);
    if (part.content !== undefined) return textWords(part.content);
  }
  return 0;
}

/** Input tokens of a request body, as this origin counts them (see the header comment). */
export function inputTokens(api: Api, body: Json): number {
  const parts: unknown[] = [];
  if (api === "chat") parts.push(body.messages);
  if (api === "responses") parts.push(body.instructions, body.input);
  if (api === "messages") parts.push(body.system, body.messages);
  return INPUT_OVERHEAD + parts.reduce<number>((n, p) => n + textWords(p), 0);
}

/** The output bound the request states, per API. */
function maxTokens(api: Api, body: Json): number | undefined {
  const v = api === "chat" ? (body.max_completion_tokens ?? body.max_tokens) : api === "responses" ? body.max_output_tokens : body.max_tokens;
  return typeof v === "number" && v >= 0 ? v : undefined;
}

/** A non-negative integer request header (the test controls), or undefined. */
export const header = (headers: Record<string, string | string[] | undefined>, name: string): number | undefined => {
  const raw = headers[name];
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
};

/** The usage this origin reports for a request (see the header comment). */
export function fakeUsage(api: Api, body: Json, headers: Record<string, string | string[] | undefined> = {}): FakeUsage {
  const input = inputTokens(api, body);
  const wanted = header(headers, "x-fake-tokens") ?? DEFAULT_TOKENS;
  const bound = maxTokens(api, body) ?? wanted;
  return { input, cached: Math.min(header(headers, "x-fake-cached") ?? 0, input), output: Math.min(bound, wanted), limited: bound < wanted };
}

/** The generated text, token by token. */
export function generatedTokens(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${i === 0 ? "" : " "}${WORDS[i % WORDS.length]}`);
}
