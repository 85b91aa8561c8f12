// Shared by the metering tests: a tokens price rule and realistic provider bodies and events.
import { PriceRule } from "../../core/pricing/rules";
import { TokenMeter } from "../../worker/metering/llm";

export const M = 1_000_000;
export const tokensRule = PriceRule.parse({
  meter: "tokens",
  input: { amount: 150_000, per: M },
  cached_input: { amount: 75_000, per: M },
  output: { amount: 600_000, per: M },
  hold: 200_000,
});
export const meterOf = (docs: unknown[], format?: "openai" | "anthropic") => {
  const meter = new TokenMeter(format);
  for (const doc of docs) meter.observe(doc);
  return meter;
};

// Realistic bodies and events, shaped like the providers' (trimmed of fields the meter ignores).
export const chatJson = {
  id: "chatcmpl-1",
  object: "chat.completion",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello there, agent." }, finish_reason: "stop" }],
  usage: {
    prompt_tokens: 1200,
    completion_tokens: 40,
    total_tokens: 1240,
    prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  },
};
export const chatChunk = (content: string | null, extra: Record<string, unknown> = {}) => ({
  id: "chatcmpl-2",
  object: "chat.completion.chunk",
  choices: content === null ? [] : [{ index: 0, delta: { content }, finish_reason: null }],
  usage: null,
  ...extra,
});
export const chatStream = [
  chatChunk(""),
  chatChunk("Hel"),
  chatChunk("lo!"),
  chatChunk(null, { usage: { prompt_tokens: 20, completion_tokens: 2, total_tokens: 22, prompt_tokens_details: { cached_tokens: 0 } } }),
];
export const responseJson = {
  id: "resp_1",
  object: "response",
  status: "completed",
  output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "Hi.", annotations: [] }] }],
  usage: {
    input_tokens: 300,
    input_tokens_details: { cached_tokens: 100 },
    output_tokens: 12,
    output_tokens_details: { reasoning_tokens: 4 },
    total_tokens: 312,
  },
};
export const responsesStream = [
  { type: "response.created", sequence_number: 0, response: { id: "resp_2", object: "response", status: "in_progress", usage: null } },
  { type: "response.output_text.delta", sequence_number: 1, item_id: "msg_1", output_index: 0, content_index: 0, delta: "Tool" },
  { type: "response.output_text.delta", sequence_number: 2, item_id: "msg_1", output_index: 0, content_index: 0, delta: "gate" },
  { type: "response.output_text.done", sequence_number: 3, item_id: "msg_1", output_index: 0, content_index: 0, text: "Tollgate" },
  {
    type: "response.completed",
    sequence_number: 4,
    response: {
      id: "resp_2",
      object: "response",
      status: "completed",
      usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 10 }, output_tokens: 2, total_tokens: 52 },
    },
  },
];
export const anthropicJson = {
  id: "msg_1",
  type: "message",
  role: "assistant",
  content: [{ type: "text", text: "Hello, agent." }],
  stop_reason: "end_turn",
  usage: { input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 30 },
};
export const anthropicStream = [
  {
    type: "message_start",
    message: { id: "msg_2", type: "message", role: "assistant", content: [], usage: { input_tokens: 472, cache_read_input_tokens: 64, output_tokens: 1 } },
  },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "ping" },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "!" } },
  { type: "content_block_stop", index: 0 },
  { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} } },
  { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city": "Paris"}' } },
  { type: "content_block_stop", index: 1 },
  { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 89 } },
  { type: "message_stop" },
];
