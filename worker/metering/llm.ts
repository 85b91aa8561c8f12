import type { Usage } from "../../core/pricing/rules";

export type LlmFormat = "openai" | "anthropic";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/**
 * Reads token usage out of LLM responses as they pass: a whole JSON body, or one SSE event's data
 * at a time. Knows OpenAI Chat Completions (`usage`, and the final `include_usage` chunk), OpenAI
 * Responses (`usage`, `response.completed`) and Anthropic Messages (`usage`, `message_start`,
 * `message_delta`). It also counts the text it saw, for an estimate when no usage is reported.
 */
export class TokenMeter {
  private usage: Usage | null = null;
  private textChars = 0;

  constructor(private format?: LlmFormat) {}

  /** One JSON document: a full response body or one SSE event's `data`. */
  observe(doc: unknown): void {
    if (!isObject(doc)) return;
    const type = typeof doc.type === "string" ? doc.type : "";
    this.format ??= detectFormat(doc, type);
    this.countText(doc, type);
    const raw = this.usageOf(doc, type);
    if (isObject(raw)) this.merge(this.format === "anthropic" ? fromAnthropic(raw) : fromOpenAi(raw));
  }

  /** The usage the origin reported, or null when it reported none. */
  reported(): Usage | null {
    return this.usage;
  }

  /** Characters of generated text seen (for the ~4-characters-per-token estimate). */
  text(): number {
    return this.textChars;
  }

  private usageOf(doc: Json, type: string): unknown {
    if (type === "message_start" && isObject(doc.message)) return doc.message.usage;
    if (type.startsWith("response.") && isObject(doc.response)) return doc.response.usage;
    return doc.usage;
  }

  private countText(doc: Json, type: string): void {
    const add = (v: unknown) => {
      if (typeof v === "string") this.textChars += v.length;
    };
    if (type === "content_block_delta" && isObject(doc.delta)) {
      add(doc.delta.text);
      add(doc.delta.partial_json);
    } else if (type === "response.output_text.delta" || type === "response.function_call_arguments.delta") {
      add(doc.delta);
    } else if (Array.isArray(doc.choices)) {
      for (const choice of doc.choices) {
        if (!isObject(choice)) continue;
        const part = isObject(choice.delta) ? choice.delta : isObject(choice.message) ? choice.message : null;
        if (part) add(part.content);
      }
    } else if (type === "message" && Array.isArray(doc.content)) {
      for (const block of doc.content) if (isObject(block)) add(block.text);
    }
  }

  /** Streams report usage in parts (Anthropic: input at start, cumulative output at the end). */
  private merge(next: Usage): void {
    const prev = this.usage ?? {};
    const pick = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
    this.usage = {
      input_tokens: pick(prev.input_tokens, next.input_tokens),
      cached_input_tokens: pick(prev.cached_input_tokens, next.cached_input_tokens),
      output_tokens: pick(prev.output_tokens, next.output_tokens),
    };
  }
}

function detectFormat(doc: Json, type: string): LlmFormat {
  if (type === "message" || type.startsWith("message_") || type.startsWith("content_block")) return "anthropic";
  if (isObject(doc.usage) && "cache_read_input_tokens" in doc.usage) return "anthropic";
  return "openai";
}

/** OpenAI counts cached tokens inside the prompt/input total; Tollgate prices them apart. */
function fromOpenAi(u: Json): Usage {
  const input = count(u.prompt_tokens) ?? count(u.input_tokens);
  const output = count(u.completion_tokens) ?? count(u.output_tokens);
  const details = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : isObject(u.input_tokens_details) ? u.input_tokens_details : {};
  const cached = Math.min(count(details.cached_tokens) ?? 0, input ?? 0);
  return { input_tokens: input === undefined ? undefined : input - cached, cached_input_tokens: cached, output_tokens: output };
}

/** Anthropic reports cache reads apart from `input_tokens`; cache writes are billed as input. */
function fromAnthropic(u: Json): Usage {
  const input = count(u.input_tokens);
  const written = count(u.cache_creation_input_tokens) ?? 0;
  return {
    input_tokens: input === undefined ? undefined : input + written,
    cached_input_tokens: count(u.cache_read_input_tokens),
    output_tokens: count(u.output_tokens),
  };
}

/** The ~4 characters (or bytes) per token rule of thumb, rounded up. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}
