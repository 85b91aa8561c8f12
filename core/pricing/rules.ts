import { z } from "zod";
import { PositiveAmount, Price } from "./amount";

/** `amount` micro-units per `per` units of the meter (e.g. 150000 per 1000000 tokens). */
const Rate = z.object({ amount: Price, per: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();
export type Rate = z.infer<typeof Rate>;

export const METERS = ["tokens", "bytes", "seconds", "units"] as const;
export type Meter = (typeof METERS)[number];

/**
 * Which calls something applies to (a price rule, a plan): `method` exact (upper case), `path`
 * a glob on the path after the slug (see `globMatch`). Empty fits every call.
 */
export const CallMatch = z
  .object({
    method: z
      .string()
      .regex(/^[A-Z]{1,16}$/, "an upper-case HTTP method")
      .optional(),
    path: z
      .string()
      .regex(/^\/[\x21-\x7e]{0,511}$/, "a path glob starting with /")
      .optional(),
  })
  .strict();
export type CallMatch = z.infer<typeof CallMatch>;

/** How a service's origin speaks: plain HTTP, or an MCP server (Streamable HTTP) priced per tool call. */
export const PROTOCOLS = ["http", "mcp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/**
 * A price rule's match: a call's `method` and `path`, and on an `mcp` service `mcp_tool`, a glob
 * (as `path`) on the tool name of a `tools/call`. A rule with `mcp_tool` prices only tool calls;
 * plans keep `CallMatch` (a pass covers calls, not tools).
 */
export const RuleMatch = CallMatch.extend({
  mcp_tool: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, "a tool name glob of printable ASCII")
    .optional(),
}).strict();
export type RuleMatch = z.infer<typeof RuleMatch>;

/**
 * A price rule: the first rule whose `match` fits the call applies. `method` is exact (upper
 * case); `path` is a glob on the path after the slug where `*` matches any run of characters,
 * `/` included. A rule with no `match` fits every call.
 *
 * Without `meter` the call costs `per_call`. With a meter the call costs `per_call` plus its
 * measured usage, reserved up front as `hold` (the most one call may cost):
 * - `tokens`: `input`, `output` and optional `cached_input` rates, from the LLM response's usage
 *   (`format` picks the parser: `openai` or `anthropic`; detected when absent);
 * - `bytes`: response body bytes delivered, at `rate`;
 * - `seconds`: origin time in milliseconds at `rate` (per `per` ms), rounded up to `increment_ms`;
 * - `units`: a count the origin reports in the `tollgate-units` response header, or later via
 *   `POST /v1/usage` when `deferred` is true.
 * `on_failure` says what an origin that breaks mid-stream is charged: `delivered` (the usage
 * delivered before the break, the default) or `none`.
 */
export const PriceRule = z
  .object({
    match: RuleMatch.default({}),
    per_call: Price.optional(),
    meter: z.enum(METERS).optional(),
    format: z.enum(["openai", "anthropic"]).optional(),
    input: Rate.optional(),
    output: Rate.optional(),
    cached_input: Rate.optional(),
    rate: Rate.optional(),
    increment_ms: z.number().int().positive().max(3_600_000).optional(),
    deferred: z.boolean().optional(),
    on_failure: z.enum(["delivered", "none"]).optional(),
    hold: PositiveAmount.optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const fail = (message: string, path: string) => ctx.addIssue({ code: "custom", message, path: [path] });
    if (!rule.meter) {
      if (rule.per_call === undefined) fail("required when the rule has no meter", "per_call");
      for (const k of ["format", "input", "output", "cached_input", "rate", "increment_ms", "deferred", "on_failure", "hold"] as const) {
        if (rule[k] !== undefined) fail("only for a rule with a meter", k);
      }
      return;
    }
    if (rule.hold === undefined) fail("required with a meter: the most one call may cost", "hold");
    else if ((rule.per_call ?? 0) > rule.hold) fail("must not be less than per_call", "hold");
    if (rule.meter === "tokens") {
      if (!rule.input && !rule.output) fail("a tokens meter needs an input or output rate", "input");
      if (rule.rate) fail("tokens are priced with input/output/cached_input", "rate");
    } else {
      if (!rule.rate) fail(`a ${rule.meter} meter needs a rate`, "rate");
      for (const k of ["format", "input", "output", "cached_input"] as const) if (rule[k] !== undefined) fail("only for a tokens meter", k);
    }
    if (rule.increment_ms !== undefined && rule.meter !== "seconds") fail("only for a seconds meter", "increment_ms");
    if (rule.deferred && rule.meter !== "units") fail("only for a units meter", "deferred");
  });

export type PriceRule = z.infer<typeof PriceRule>;

export const PriceRules = z.array(PriceRule).min(1, "at least one price rule").max(64);

/** What a call used, as measured (or, where the origin reported nothing, estimated). */
export type Usage = {
  input_tokens?: number;
  output_tokens?: number;
  cached_input_tokens?: number;
  bytes?: number;
  ms?: number;
  units?: number;
};

/**
 * The first rule that fits `method` and `path`, or null (the call is then refused, never free).
 * A rule with `mcp_tool` prices tool calls only (`matchToolRule`), never a plain call.
 */
export function matchRule(rules: readonly PriceRule[], method: string, path: string): PriceRule | null {
  for (const rule of rules) if (rule.match.mcp_tool === undefined && matchFits(rule.match, method, path)) return rule;
  return null;
}

/**
 * The first rule that fits an MCP `tools/call` of `tool` sent as `method path`: its `mcp_tool`
 * glob matches the name, or it has none (a rule with no match fits every call, tool calls too).
 */
export function matchToolRule(rules: readonly PriceRule[], method: string, path: string, tool: string): PriceRule | null {
  for (const rule of rules) {
    const glob = rule.match.mcp_tool;
    if ((glob === undefined || globMatch(glob, tool)) && matchFits(rule.match, method, path)) return rule;
  }
  return null;
}

/**
 * What a service's protocol allows of its rules: `mcp_tool` only on an `mcp` service, and an `mcp`
 * service's rules are `per_call` (a tool call's price; its charge waits for the tool's result).
 */
export function protocolIssues(protocol: Protocol, rules: readonly PriceRule[]): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  rules.forEach((rule, i) => {
    if (protocol !== "mcp" && rule.match.mcp_tool !== undefined)
      issues.push({ path: `prices.${i}.match.mcp_tool`, message: "only on a service with protocol mcp" });
    if (protocol === "mcp" && rule.meter !== undefined) issues.push({ path: `prices.${i}.meter`, message: "an mcp service prices tool calls per_call" });
  });
  return issues;
}

/** Whether a call fits `match`: the same test for price rules and plans. */
export function matchFits(match: CallMatch, method: string, path: string): boolean {
  if (match.method && match.method !== method) return false;
  if (match.path && !globMatch(match.path, path)) return false;
  return true;
}

/**
 * Glob match with `*` as the only wildcard, in O(pattern × text) worst case and no regex
 * (a provider-written pattern must not be able to stall the hot path).
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/** ⌈units × amount ÷ per⌉ in exact integer arithmetic (BigInt: the product may pass 2^53). */
export function cost(units: number, rate: Rate | undefined): bigint {
  if (!rate || units <= 0) return 0n;
  const n = BigInt(units) * BigInt(rate.amount);
  const per = BigInt(rate.per);
  return (n + per - 1n) / per;
}

/** Upper bounds a request states about itself (an LLM call's input size and `max_tokens`). */
export type RequestBound = { inputTokens: number; outputTokens: number };

/**
 * The hold to reserve before forwarding: the most this call may cost. A tokens rule's hold is
 * lowered when the request bounds both input and output, never raised above `hold`.
 */
export function quote(rule: PriceRule, bound?: RequestBound | null): number {
  const perCall = rule.per_call ?? 0;
  if (!rule.meter) return perCall;
  const hold = rule.hold ?? perCall;
  if (rule.meter !== "tokens" || !bound) return hold;
  // Input is bounded at the dearer of the input and cached-input rates.
  const inputRate = [rule.input, rule.cached_input].reduce<Rate | undefined>(
    (dearest, r) => (r && (!dearest || cost(1_000_000, r) > cost(1_000_000, dearest)) ? r : dearest),
    undefined,
  );
  const most = BigInt(perCall) + cost(bound.inputTokens, inputRate) + cost(bound.outputTokens, rule.output);
  return most < BigInt(hold) ? Number(most) : hold;
}

/** What the measured usage costs under `rule`, uncapped (BigInt: capped by the caller). */
export function measuredCost(rule: PriceRule, usage: Usage): bigint {
  let total = BigInt(rule.per_call ?? 0);
  switch (rule.meter) {
    case undefined:
      break;
    case "tokens":
      total += cost(usage.input_tokens ?? 0, rule.input);
      total += cost(usage.cached_input_tokens ?? 0, rule.cached_input ?? rule.input);
      total += cost(usage.output_tokens ?? 0, rule.output);
      break;
    case "bytes":
      total += cost(usage.bytes ?? 0, rule.rate);
      break;
    case "seconds": {
      const step = rule.increment_ms ?? 1;
      const ms = Math.ceil((usage.ms ?? 0) / step) * step;
      total += cost(ms, rule.rate);
      break;
    }
    case "units":
      total += cost(usage.units ?? 0, rule.rate);
      break;
  }
  return total;
}

/**
 * The amount to capture for measured usage: never more than the hold. What the usage cost beyond
 * the hold is the `shortfall`, recorded on the transfer so the provider sees it.
 */
export function settlement(rule: PriceRule, usage: Usage, held: number): { amount: number; shortfall: number } {
  const owed = measuredCost(rule, usage);
  if (owed <= BigInt(held)) return { amount: Number(owed), shortfall: 0 };
  const over = owed - BigInt(held);
  return { amount: held, shortfall: over > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(over) };
}

/** The price of a call whose charge is known when the response headers arrive. */
export function chargeAtHeaders(rule: PriceRule): boolean {
  return !rule.meter || (rule.meter === "units" && !rule.deferred);
}
