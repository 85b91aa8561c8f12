import { z } from "zod";
import { ApiError } from "../errors";

/**
 * Cost-allocation tags (`team=growth`): from the key's mandate and from a call's `tollgate-tags`
 * header. Bounded in count and size, and restricted to characters that cannot inject into CSV
 * or a spreadsheet (a value never starts with `=`, `+`, `-` or `@`).
 */
export const MAX_TAGS = 10;
/** A tag name; also what usage reports accept after `group_by=tag:` (it never needs quoting). */
export const TAG_KEY = /^[a-z][a-z0-9_.-]{0,31}$/;
const TAG_VALUE = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$/;

export type Tags = Record<string, string>;

export const TagsSchema = z
  .record(z.string().regex(TAG_KEY, "tag names: a-z first, then a-z 0-9 _ . - (up to 32)"), z.string().regex(TAG_VALUE, "tag values: a letter or digit first, then A-Z a-z 0-9 _ . : / - (up to 64)"))
  .refine((t) => Object.keys(t).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`);

/** Parses `tollgate-tags: team=growth,session=s1`; anything malformed is a 400 before any charge. */
export function parseTagsHeader(header: string | null): Tags {
  if (header === null || header.trim() === "") return {};
  const tags: Tags = {};
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? "" : part.slice(0, eq).trim();
    const value = eq < 0 ? "" : part.slice(eq + 1).trim();
    if (!TAG_KEY.test(key) || !TAG_VALUE.test(value)) {
      throw new ApiError("invalid_request", `tollgate-tags: '${part.trim().slice(0, 80)}' is not name=value with allowed characters`);
    }
    // Own keys only: `in` would also see Object.prototype members and refuse `constructor=…`.
    if (Object.hasOwn(tags, key)) throw new ApiError("invalid_request", `tollgate-tags: '${key}' appears twice`);
    tags[key] = value;
  }
  if (Object.keys(tags).length > MAX_TAGS) throw new ApiError("invalid_request", `tollgate-tags: at most ${MAX_TAGS} tags`);
  return tags;
}

/**
 * A call's tags over its mandate's (up to MAX_TAGS from each): the mandate's are the owner's
 * authority and win a conflict, so an agent cannot re-label its spending.
 */
export function mergeTags(mandate: Tags | null, call: Tags): Tags {
  return { ...call, ...(mandate ?? {}) };
}
