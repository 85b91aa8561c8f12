import { concatBytes } from "@noble/hashes/utils.js";
import { ApiError } from "../errors";

/**
 * The largest request body Tollgate forwards. A signed request carries the body's digest in its
 * headers, so the body is read whole before the call goes out (an LLM or API call is kilobytes);
 * the cap keeps one call from holding an isolate's memory.
 */
export const MAX_REQUEST_BODY = 10 * 1024 * 1024;

/**
 * Reads the request body once, whole, up to `max` bytes; null when there is none (GET, HEAD, or no
 * body at all). Beyond `max` it answers 413 `payload_too_large`, before any money is reserved.
 */
export async function readRequestBody(request: Request, max = MAX_REQUEST_BODY): Promise<ArrayBuffer | null> {
  // The origin is never sent a body on GET or HEAD (forward.ts), so none is read or signed.
  if (!request.body || request.method === "GET" || request.method === "HEAD") return null;
  const tooLarge = () => new ApiError("payload_too_large", `Request bodies are limited to ${max} bytes.`, { max_bytes: max });
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > max) throw tooLarge();
  // A declared length within the cap is all the runtime will deliver: read it in one native call.
  if (Number.isSafeInteger(declared)) return await request.arrayBuffer();

  // Counted as it arrives: a chunked body (no Content-Length) is stopped at the cap, not buffered past it.
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concatBytes(...chunks).buffer as ArrayBuffer;
}
