import { ApiError } from "../errors";

/** The largest single header field line (`name: value`) Tollgate accepts. */
export const MAX_HEADER_BYTES = 8 * 1024;
/** The largest total of all header field lines. */
export const MAX_TOTAL_HEADER_BYTES = 32 * 1024;

/** Control characters a field value must not carry (RFC 9110 §5.5); HTAB is allowed. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's whole job
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Refuses requests whose meaning could differ between Tollgate and the origin, before any auth,
 * lookup or pricing decision (every request, API or proxied; runs first in app.ts):
 *
 * - userinfo in the request URL (`http://user:pass@host/…`);
 * - a `Host` header naming another authority than the request URL (a request constructed by
 *   another Worker or a service binding, or an absolute-form target passed on with the original
 *   Host): which host decided the route would be ambiguous;
 * - `Transfer-Encoding` together with `Content-Length` (RFC 9112 §6.3: the framing is ambiguous,
 *   the classic request-smuggling shape);
 * - control characters in a header value;
 * - oversize headers: 431.
 *
 * What workerd itself refuses or normalizes before the Worker runs (absolute-form targets, CR/LF
 * in values, duplicate Host or Content-Length) is listed in SECURITY.md and tested end to end.
 */
export function assertWellFormedRequest(request: Request): void {
  const url = new URL(request.url);
  if (url.username !== "" || url.password !== "") {
    throw new ApiError("non_canonical_request", "The request URL carries credentials (user:password@); send the key as a header.");
  }
  const host = request.headers.get("host");
  if (host !== null && !sameAuthority(url, host)) {
    throw new ApiError("non_canonical_request", "The Host header does not name the host of the request URL.");
  }
  if (request.headers.has("transfer-encoding") && request.headers.has("content-length")) {
    throw new ApiError("invalid_request", "Transfer-Encoding and Content-Length together make the body's length ambiguous; send one.");
  }
  let total = 0;
  for (const [name, value] of request.headers) {
    const line = name.length + 2 + value.length; // "name: value"; Headers values are byte strings
    if (line > MAX_HEADER_BYTES) {
      throw new ApiError("request_header_fields_too_large", `The ${name} header is larger than ${MAX_HEADER_BYTES} bytes.`, {
        max_header_bytes: MAX_HEADER_BYTES,
      });
    }
    total += line + 2; // CRLF
    if (CONTROL.test(value)) throw new ApiError("invalid_request", `The ${name} header has a control character.`);
  }
  if (total > MAX_TOTAL_HEADER_BYTES) {
    throw new ApiError("request_header_fields_too_large", `The headers total more than ${MAX_TOTAL_HEADER_BYTES} bytes.`, {
      max_total_header_bytes: MAX_TOTAL_HEADER_BYTES,
    });
  }
}

/** Whether a Host header value names the URL's own host and port (default ports folded). */
function sameAuthority(url: URL, host: string): boolean {
  // An authority only: nothing the URL parser would read as a path, query, fragment or userinfo.
  if (!/^[^\s/?#@\\]+$/.test(host)) return false;
  try {
    const parsed = new URL(`${url.protocol}//${host}`);
    return (
      parsed.host === url.host && parsed.username === "" && parsed.password === "" && parsed.pathname === "/" && parsed.search === "" && parsed.hash === ""
    );
  } catch {
    return false;
  }
}
