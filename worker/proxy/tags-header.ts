import { MAX_TAGS, TAG_KEY, TAG_VALUE, type Tags } from "../../core/tags";
import { ApiError } from "../errors";

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
