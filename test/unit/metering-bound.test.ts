import { describe, expect, it } from "vitest";
import { requestBound } from "../../worker/metering/bound";

describe("requestBound", () => {
  const enc = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc)).buffer as ArrayBuffer;
  const chat = { model: "m", messages: [{ role: "user", content: "Bonjour, ça va ?" }] };

  it("reads max_tokens / max_completion_tokens / max_output_tokens; input is the body's bytes", () => {
    const body = enc({ ...chat, max_tokens: 64 });
    // Bytes, not characters: "ç" is two bytes in UTF-8.
    expect(body.byteLength).toBe(JSON.stringify({ ...chat, max_tokens: 64 }).length + 1);
    expect(requestBound(body)).toEqual({ inputTokens: body.byteLength, outputTokens: 64 });
    expect(requestBound(enc({ ...chat, max_completion_tokens: 5 }))?.outputTokens).toBe(5);
    expect(requestBound(enc({ model: "m", input: "hi", max_output_tokens: 7 }))?.outputTokens).toBe(7);
    expect(requestBound(enc({ ...chat, max_tokens: 0 }))?.outputTokens).toBe(0);
    expect(requestBound(enc({ ...chat, max_tokens: null, max_completion_tokens: 9 }))?.outputTokens).toBe(9);
  });

  it("takes the largest when several bounds are sent", () => {
    expect(requestBound(enc({ ...chat, max_tokens: 10, max_completion_tokens: 1000 }))?.outputTokens).toBe(1000);
  });

  it("is null without a usable output bound", () => {
    for (const doc of [
      chat,
      { ...chat, max_tokens: -1 },
      { ...chat, max_tokens: 1.5 },
      { ...chat, max_tokens: "10" },
      { ...chat, max_tokens: 2 ** 53 },
      [1],
      "x",
      42,
    ]) {
      expect(requestBound(enc(doc))).toBeNull();
    }
    expect(requestBound(new TextEncoder().encode("{not json").buffer as ArrayBuffer)).toBeNull();
    expect(requestBound(new ArrayBuffer(0))).toBeNull();
  });

  it("multiplies the output bound by n (and best_of) choices", () => {
    expect(requestBound(enc({ ...chat, max_tokens: 100, n: 3 }))?.outputTokens).toBe(300);
    expect(requestBound(enc({ model: "m", prompt: "hi", max_tokens: 10, n: 2, best_of: 5 }))?.outputTokens).toBe(50);
    expect(requestBound(enc({ ...chat, max_tokens: 100, n: 0 }))?.outputTokens).toBe(100);
  });

  it("is null when the input is not all in the body: stored state, templates, media, files, tools", () => {
    const unbounded = [
      { model: "m", input: "continue", previous_response_id: "resp_123", max_output_tokens: 10 },
      { model: "m", input: "hi", conversation: "conv_123", max_output_tokens: 10 },
      { model: "m", prompt: { id: "pmpt_123", variables: {} }, max_output_tokens: 10 },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/cat.png" } }] }] },
      { model: "m", max_output_tokens: 10, input: [{ role: "user", content: [{ type: "input_image", image_url: "https://x/cat.png" }] }] },
      { model: "m", max_output_tokens: 10, input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }] },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://x/cat.png" } }] }] },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: "f" } }] }] },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }], tools: [{ name: "get_weather", input_schema: { type: "object" } }] },
      { model: "m", max_output_tokens: 10, input: "search", tools: [{ type: "web_search" }] },
      { model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }], mcp_servers: [{ type: "url", url: "https://mcp" }] },
    ];
    for (const doc of unbounded) expect(requestBound(enc(doc)), JSON.stringify(doc)).toBeNull();
    // Text-only content parts, a legacy string prompt and an empty tools list keep the bound.
    const texts = { model: "m", max_tokens: 10, tools: [], messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], previous_response_id: null };
    expect(requestBound(enc(texts))?.outputTokens).toBe(10);
    expect(requestBound(enc({ model: "m", prompt: "Once upon", max_tokens: 10 }))?.outputTokens).toBe(10);
  });
});
