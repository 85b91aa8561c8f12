import { z } from "zod";
import { Price } from "./amount";

/**
 * A price rule: the first rule whose `match` fits the call applies. `method` is exact (upper
 * case); `path` is a glob on the path after the slug where `*` matches any run of characters,
 * `/` included. A rule with no `match` fits every call.
 */
export const PriceRule = z
  .object({
    match: z
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
      .strict()
      .default({}),
    per_call: Price,
  })
  .strict();

export type PriceRule = z.infer<typeof PriceRule>;

export const PriceRules = z.array(PriceRule).min(1, "at least one price rule").max(64);

/** The first rule that fits `method` and `path`, or null (the call is then refused, never free). */
export function matchRule(rules: readonly PriceRule[], method: string, path: string): PriceRule | null {
  for (const rule of rules) {
    if (rule.match.method && rule.match.method !== method) continue;
    if (rule.match.path && !globMatch(rule.match.path, path)) continue;
    return rule;
  }
  return null;
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

/** The hold to reserve before forwarding: the most this call may cost. */
export function quote(rule: PriceRule): number {
  return rule.per_call;
}

/** The amount to capture once the origin has answered successfully (never above the quote). */
export function charge(rule: PriceRule): number {
  return rule.per_call;
}
