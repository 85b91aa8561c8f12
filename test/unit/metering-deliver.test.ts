import { describe, expect, it } from "vitest";
import { deliver, ORIGIN_FAILED_EVENT } from "../../worker/metering/tap";
import { chatChunk, chatJson, chatStream } from "./metering-fixtures";

describe("deliver", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const sse = (events: unknown[]) => events.map((e) => `data: ${JSON.stringify(e)}\n\n`);
  async function drain(readable: ReadableStream<Uint8Array>): Promise<{ text: string; error: unknown }> {
    const reader = readable.getReader();
    let text = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { text, error: null };
        text += new TextDecoder().decode(value, { stream: true });
      }
    } catch (error) {
      return { text, error };
    }
  }
  /** One part per read, then the end or (a stream error discards what is queued) the failure. */
  const source = (parts: string[], fail?: Error) => {
    let next = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const part = parts[next++];
          if (part !== undefined) controller.enqueue(enc(part));
          else if (fail) controller.error(fail);
          else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
  };
  const opts = (contentType: string) => ({ startedAt: Date.now(), meterTokens: true, format: "openai" as const, contentType });

  it("passes every byte through and meters the SSE events, split anywhere", async () => {
    const whole = `${sse(chatStream).join("")}data: [DONE]\n\n`;
    const parts = [whole.slice(0, 7), whole.slice(7, 150), whole.slice(150)];
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const [delivery, out] = await Promise.all([deliver(source(parts), writable, opts("text/event-stream")), drain(readable)]);
    expect(out).toEqual({ text: whole, error: null });
    expect(delivery.outcome).toBe("complete");
    expect(delivery.bytes).toBe(enc(whole).byteLength);
    expect(delivery.tokens?.reported()).toEqual({ input_tokens: 20, cached_input_tokens: 0, output_tokens: 2 });
  });

  it("reads a JSON body's usage at its end", async () => {
    const body = JSON.stringify(chatJson);
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const [delivery] = await Promise.all([deliver(source([body.slice(0, 20), body.slice(20)]), writable, opts("application/json")), drain(readable)]);
    expect(delivery.tokens?.reported()).toEqual({ input_tokens: 176, cached_input_tokens: 1024, output_tokens: 40 });
  });

  it("an SSE origin that breaks ends the agent's stream with an error event (SDKs raise it)", async () => {
    const parts = sse(chatStream.slice(0, 2));
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const [delivery, out] = await Promise.all([
      deliver(source([...parts, 'data: {"half'], new Error("connection lost")), writable, opts("text/event-stream")),
      drain(readable),
    ]);
    expect(delivery.outcome).toBe("origin_failed");
    expect(out.error).toBeNull();
    expect(out.text).toBe(`${parts.join("")}data: {"half${new TextDecoder().decode(ORIGIN_FAILED_EVENT)}`);
    const last = out.text.split("\n\n").filter(Boolean).at(-1) as string;
    expect(last.split("\n")[0]).toBe("event: error");
    expect(JSON.parse(last.split("\n")[1]?.slice("data: ".length) ?? "")).toMatchObject({ error: { code: "origin_failed" } });
    expect(delivery.tokens?.text()).toBe(3);
  });

  it("a JSON origin that breaks aborts the agent's stream", async () => {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const [delivery, out] = await Promise.all([deliver(source(['{"id":'], new Error("lost")), writable, opts("application/json")), drain(readable)]);
    expect(delivery.outcome).toBe("origin_failed");
    expect(out.error).toBeInstanceOf(Error);
  });

  it("an agent that leaves cancels the origin", async () => {
    let cancelled = false;
    let sent = 0;
    const origin = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(enc(`data: ${JSON.stringify(chatChunk("word "))}\n\n`));
        sent++;
      },
      cancel() {
        cancelled = true;
      },
    });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const pending = deliver(origin, writable, opts("text/event-stream"));
    const reader = readable.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel("agent left");
    const delivery = await pending;
    expect(delivery.outcome).toBe("client_disconnected");
    expect(cancelled).toBe(true);
    expect(sent).toBeLessThan(10);
    expect(delivery.tokens?.text()).toBeGreaterThanOrEqual(10);
  });
});
