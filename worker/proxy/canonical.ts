import { ApiError } from "../errors";

/**
 * Refuses request targets that could mean one thing to Tollgate and another to the origin:
 * dot segments (plain or percent-encoded), encoded slashes or backslashes, empty segments,
 * and encoded control characters. Runs before any auth or pricing decision.
 */
export function assertCanonicalPath(path: string): void {
  if (!path.startsWith("/")) throw nonCanonical("The path must start with '/'.");
  if (path.includes("//")) throw nonCanonical("The path has an empty segment ('//').");
  if (path.includes("\\")) throw nonCanonical("The path has a backslash.");
  if (/%(2f|5c|00|0a|0d)/i.test(path)) throw nonCanonical("The path has an encoded '/', '\\' or control character.");
  for (const segment of path.split("/")) {
    const decoded = segment.replace(/%2e/gi, ".");
    if (decoded === "." || decoded === "..") throw nonCanonical("The path has a '.' or '..' segment.");
  }
}

function nonCanonical(detail: string): ApiError {
  return new ApiError("non_canonical_request", detail);
}
