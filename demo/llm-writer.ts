import type { ServerResponse } from "node:http";

// How the fake LLM origin (demo/llm-origin.ts) writes a response, JSON or SSE, under its test
// controls (delay, failure, split events), and records every write.

export type LoggedCall = {
  path: string;
  requestId: string | null;
  /** Date.now() of each write of the body (one per SSE event). */
  writes: number[];
  ended: "complete" | "failed" | "client_closed" | null;
};

export type Sse = { event?: string; data: unknown };

/** Writes the response and records it; honours the delay, failure and split controls. */
export class Writer {
  private closed = false;
  constructor(
    private readonly res: ServerResponse,
    private readonly call: LoggedCall,
    private readonly ctl: { delayMs: number; failAfter?: number; split: boolean },
  ) {
    res.on("close", () => {
      if (!res.writableFinished && this.call.ended === null) this.call.ended = "client_closed";
      this.closed = true;
    });
  }

  async json(status: number, body: unknown, headers: Record<string, string> = {}): Promise<void> {
    if (this.ctl.delayMs > 0) await sleep(this.ctl.delayMs);
    const bytes = Buffer.from(JSON.stringify(body));
    this.res.writeHead(status, { "content-type": "application/json", ...headers });
    if (this.ctl.failAfter !== undefined) return this.fail(bytes.subarray(0, this.ctl.failAfter * 16));
    this.call.writes.push(Date.now());
    this.res.end(bytes);
    this.call.ended = "complete";
  }

  async sse(events: Sse[]): Promise<void> {
    this.res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    this.res.flushHeaders();
    for (const [i, e] of events.entries()) {
      if (this.closed) return;
      if (i === this.ctl.failAfter) return this.fail(Buffer.alloc(0));
      if (i > 0 && this.ctl.delayMs > 0) await sleep(this.ctl.delayMs);
      if (this.closed) return;
      const text = `${e.event ? `event: ${e.event}\n` : ""}data: ${typeof e.data === "string" ? e.data : JSON.stringify(e.data)}\n\n`;
      const bytes = Buffer.from(text);
      this.call.writes.push(Date.now());
      if (this.ctl.split) {
        // Split inside the event (and possibly inside a UTF-8 sequence): parsers must reassemble.
        const at = Math.floor(bytes.length / 2);
        await this.write(bytes.subarray(0, at));
        await sleep(5);
        await this.write(bytes.subarray(at));
      } else {
        await this.write(bytes);
      }
    }
    this.res.end();
    this.call.ended = "complete";
  }

  /** Resolves once the bytes are handed to the socket, or when the connection is gone. */
  private write(bytes: Buffer): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off("close", done);
        resolve();
      };
      this.res.once("close", done);
      this.res.write(bytes, done);
    });
  }

  /** Mid-stream failure: what was written so far reaches the peer, then the connection drops. */
  private async fail(last: Buffer): Promise<void> {
    if (last.length > 0) {
      this.call.writes.push(Date.now());
      await this.write(last);
    }
    this.call.ended = "failed";
    await sleep(20);
    this.res.socket?.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
