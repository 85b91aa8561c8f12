import { z } from "zod";

/**
 * Cost-allocation tags (`team=growth`): from the key's mandate and from a call's `tollgate-tags`
 * header. Bounded in count and size, and restricted to characters that cannot inject into CSV
 * or a spreadsheet (a value never starts with `=`, `+`, `-` or `@`).
 */
export const MAX_TAGS = 10;
/** A tag name; also what usage reports accept after `group_by=tag:` (it never needs quoting). */
export const TAG_KEY = /^[a-z][a-z0-9_.-]{0,31}$/;
export const TAG_VALUE = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$/;

export type Tags = Record<string, string>;

export const TagsSchema = z
  .record(
    z.string().regex(TAG_KEY, "tag names: a-z first, then a-z 0-9 _ . - (up to 32)"),
    z.string().regex(TAG_VALUE, "tag values: a letter or digit first, then A-Z a-z 0-9 _ . : / - (up to 64)"),
  )
  .refine((t) => Object.keys(t).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`);

/**
 * A call's tags over its mandate's (up to MAX_TAGS from each): the mandate's are the owner's
 * authority and win a conflict, so an agent cannot re-label its spending.
 */
export function mergeTags(mandate: Tags | null, call: Tags): Tags {
  return { ...call, ...(mandate ?? {}) };
}
