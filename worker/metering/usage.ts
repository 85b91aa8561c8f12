import type { PriceRule, Usage } from "../../core/pricing/rules";
import { estimateTokens } from "./llm";
import type { Delivery } from "./tap";

/** Usage as billed, and whether any of it is an estimate rather than the origin's report. */
export type Measured = { usage: Usage; estimated: boolean };

/**
 * What a streamed call used, by the rule's meter. Tokens come from the origin's usage report;
 * where it reported none (or the stream broke before the final report), output is estimated
 * from the text delivered and input from the request's size, at ~4 characters per token.
 */
export function measure(rule: PriceRule, delivery: Delivery, requestBytes: number): Measured {
  switch (rule.meter) {
    case "bytes":
      return { usage: { bytes: delivery.bytes }, estimated: false };
    case "seconds":
      return { usage: { ms: delivery.ms }, estimated: false };
    case "tokens": {
      const reported = delivery.tokens?.reported() ?? null;
      const delivered = estimateTokens(delivery.tokens?.text() ?? 0);
      const complete = delivery.outcome === "complete";
      const input = reported?.input_tokens;
      const output = reported?.output_tokens;
      if (complete && input !== undefined && output !== undefined) return { usage: reported as Usage, estimated: false };
      return {
        usage: {
          input_tokens: input ?? estimateTokens(requestBytes),
          cached_input_tokens: reported?.cached_input_tokens ?? 0,
          // A stream cut before its final report has only a partial count: never charge less
          // than the text that was delivered.
          output_tokens: Math.max(output ?? 0, delivered),
        },
        estimated: true,
      };
    }
    default:
      return { usage: {}, estimated: false };
  }
}

/** The `tollgate-units` response header an origin sets to report a count; absent or bad → 0. */
export const UNITS_HEADER = "tollgate-units";

export function unitsFromHeader(headers: Headers): number {
  const raw = headers.get(UNITS_HEADER);
  if (!raw || !/^\d{1,15}$/.test(raw.trim())) return 0;
  return Number(raw.trim());
}
