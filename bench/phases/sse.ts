/**
 * Figure 5: time to the first body byte of an SSE completion, one call at a time, the direct,
 * bare and Tollgate arms interleaved per sample (tokens-metered service `bench-llm`).
 */
import { Agent } from "node:http";
import { ARM_PATH, agentCall, type Payer } from "../api.ts";
import { type Call, median, quantile, timeToFirstByte } from "../load.ts";
import { round1, type Run } from "./context.ts";

type SseArm = "direct" | "bare" | "tollgate";
const SSE_ARMS: SseArm[] = ["direct", "bare", "tollgate"];
const orderSse = (r: number): SseArm[] => SSE_ARMS.map((_, i) => SSE_ARMS[(i + r) % SSE_ARMS.length] as SseArm);
const SSE_WARM_UP = 5;

const SSE_BODY = JSON.stringify({
  model: "bench-llm-1",
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: 64,
  messages: [{ role: "user", content: "Say hello to the benchmark." }],
});

/** The SSE part of `result.latency`. */
export async function sseFirstByte({ cfg, log, gateway, originUrl, payers, errors }: Run): Promise<Record<string, unknown>> {
  const payer = payers[0] as Payer;
  const arm = (base: string, path: string) => ({
    base,
    call: agentCall(payer, path, SSE_BODY) as Call,
    agent: new Agent({ keepAlive: true, maxSockets: 1 }),
    ttfb: [] as number[],
  });
  const sseTarget: Record<SseArm, ReturnType<typeof arm>> = {
    direct: arm(originUrl, "/v1/chat/completions"),
    bare: arm(gateway.url, ARM_PATH.bare),
    tollgate: arm(gateway.url, "/s/bench-llm/v1/chat/completions"),
  };
  let failed = 0;
  for (let i = 0; i < cfg.sseSamples + SSE_WARM_UP; i++) {
    for (const name of orderSse(i)) {
      const t = sseTarget[name];
      const m = await timeToFirstByte(t.agent, t.base, t.call);
      if (m.status !== 200 || m.firstByteMs < 0) {
        failed++;
        continue;
      }
      if (i >= SSE_WARM_UP) t.ttfb.push(m.firstByteMs);
    }
  }
  for (const name of SSE_ARMS) sseTarget[name].agent.destroy();
  if (failed > 0) errors.push(`SSE: ${failed} calls failed`);
  const sseMedian = (name: SseArm) => median(sseTarget[name].ttfb);
  log(
    `SSE first byte (median): direct ${sseMedian("direct").toFixed(2)} ms, bare ${sseMedian("bare").toFixed(2)} ms, tollgate ${sseMedian("tollgate").toFixed(2)} ms`,
  );
  return {
    samples: cfg.sseSamples,
    first_byte_median_ms: { direct: round1(sseMedian("direct"), 3), bare: round1(sseMedian("bare"), 3), tollgate: round1(sseMedian("tollgate"), 3) },
    first_byte_p90_ms: {
      direct: round1(quantile(sseTarget.direct.ttfb, 0.9), 3),
      bare: round1(quantile(sseTarget.bare.ttfb, 0.9), 3),
      tollgate: round1(quantile(sseTarget.tollgate.ttfb, 0.9), 3),
    },
    added_first_byte_ms: round1(sseMedian("tollgate") - sseMedian("bare"), 3),
  };
}
