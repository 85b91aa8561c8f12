import { concatBytes } from "@noble/hashes/utils.js";
import { createParser } from "eventsource-parser";
import type { LlmFormat } from "./llm";
import { TokenMeter } from "./llm";

/** A JSON response is kept (while it streams through) up to this size to read its usage. */
const MAX_JSON_BODY = 8 << 20;

/**
 * Ends an SSE stream whose origin broke: an `error` event (the OpenAI and Anthropic SDKs raise it),
 * after blank lines that close any event the origin left half-written.
 */
export const ORIGIN_FAILED_EVENT = new TextEncoder().encode(
  `\n\nevent: error\ndata: ${JSON.stringify({ type: "error", error: { type: "api_error", code: "origin_failed", message: "The origin failed mid-stream; the response is incomplete." } })}\n\n`,
);

export type StreamOutcome = "complete" | "client_disconnected" | "origin_failed";

export type Delivery = {
  outcome: StreamOutcome;
  /** Body bytes the agent accepted. */
  bytes: number;
  /** Origin time: from forwarding the request to the end (or break) of the response body. */
  ms: number;
  tokens: TokenMeter | null;
};

/** Sees each chunk of a response as it passes to the agent, then its end. */
export interface ChunkObserver {
  chunk(bytes: Uint8Array): void;
  end(): void;
}

/** Observes response chunks for token usage: SSE events one by one, or a whole JSON body. */
class UsageObserver implements ChunkObserver {
  readonly meter: TokenMeter;
  private readonly sse;
  private readonly decoder = new TextDecoder();
  private json: Uint8Array[] | null = [];
  private jsonBytes = 0;

  constructor(
    private readonly streaming: boolean,
    format?: LlmFormat,
  ) {
    this.meter = new TokenMeter(format);
    this.sse = createParser({
      onEvent: (event) => {
        if (event.data === "[DONE]") return;
        try {
          this.meter.observe(JSON.parse(event.data));
        } catch {
          // Not JSON: nothing to meter in this event.
        }
      },
    });
  }

  chunk(bytes: Uint8Array): void {
    if (this.streaming) {
      this.sse.feed(this.decoder.decode(bytes, { stream: true }));
    } else if (this.json) {
      this.jsonBytes += bytes.byteLength;
      if (this.jsonBytes > MAX_JSON_BODY) this.json = null;
      else this.json.push(bytes);
    }
  }

  end(): void {
    if (this.streaming || !this.json) return;
    const whole = concatBytes(...this.json);
    try {
      this.meter.observe(JSON.parse(new TextDecoder().decode(whole)));
    } catch {
      // Not JSON: the origin reported no usage; the caller estimates.
    }
  }
}

/**
 * Streams the origin's body to the agent chunk by chunk (never buffering before delivery) while
 * measuring it. Ends when the body ends, the agent goes away (the origin is then cancelled), or
 * the origin breaks mid-stream (the agent's stream is then aborted).
 */
export async function deliver(
  body: ReadableStream<Uint8Array>,
  to: WritableStream<Uint8Array>,
  /** `observer`: another reader of the chunks (an MCP tool call's answer), instead of the token meter. */
  opts: { startedAt: number; meterTokens: boolean; format?: LlmFormat; contentType: string; observer?: ChunkObserver },
): Promise<Delivery> {
  const sse = opts.contentType.includes("text/event-stream");
  const usage = opts.meterTokens ? new UsageObserver(sse, opts.format) : null;
  const observer: ChunkObserver | null = usage ?? opts.observer ?? null;
  const reader = body.getReader();
  const writer = to.getWriter();
  let bytes = 0;
  const done = (outcome: StreamOutcome): Delivery => {
    observer?.end();
    return { outcome, bytes, ms: Date.now() - opts.startedAt, tokens: usage?.meter ?? null };
  };
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (err) {
      // workerd ends an aborted response body like a complete one (last chunk, then close), so
      // an SSE client would take a cut stream for a finished one: say so in the stream itself.
      if (sse)
        await writer
          .write(ORIGIN_FAILED_EVENT)
          .then(() => writer.close())
          .catch(() => writer.abort(err).catch(() => undefined));
      else await writer.abort(err).catch(() => undefined);
      return done("origin_failed");
    }
    if (next.done) {
      await writer.close().catch(() => undefined);
      return done("complete");
    }
    // Usage the origin reports counts even if the agent leaves before reading it.
    observer?.chunk(next.value);
    try {
      await writer.write(next.value);
      bytes += next.value.byteLength;
    } catch {
      await reader.cancel().catch(() => undefined);
      return done("client_disconnected");
    }
  }
}
