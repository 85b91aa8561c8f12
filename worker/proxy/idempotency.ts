import { concatBytes } from "@noble/hashes/utils.js";
import { decodeBase64, encodeBase64 } from "hono/utils/encode";
import type { StoredResponse } from "../../durable-objects/types";
import { ApiError } from "../errors";
import { sha256Hex } from "../../core/ids";

/** Responses larger than this are not kept for replay (a retry is then told so, not re-run). */
const MAX_KEPT_BODY = 1 << 20;

export type CallIdempotency = { key: string; fingerprint: string };

/**
 * The agent's `Idempotency-Key` and a digest of what it asks (method, path, query, body): the
 * same key with another call is a 422, never a replay of something else.
 */
export async function callIdempotency(
  request: Request,
  path: string,
  body: ArrayBuffer | null,
  key = request.headers.get("idempotency-key"),
): Promise<CallIdempotency | null> {
  if (key === null) return null;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) throw new ApiError("invalid_request", "Idempotency-Key: 1–255 visible ASCII characters");
  const bodyDigest = body ? await sha256Hex(body) : "";
  const fingerprint = await sha256Hex(`${request.method}\n${path}${new URL(request.url).search}\n${bodyDigest}`);
  return { key, fingerprint };
}

/** The first call's response again, marked as a replay: not forwarded, not charged again. */
export function replay(stored: StoredResponse): Response {
  if (stored.body === null) {
    throw new ApiError(
      "conflict",
      `The first call with this Idempotency-Key (${stored.request_id}) was settled, but its response was too large to keep.`,
      { request_id: stored.request_id },
      { "tollgate-request-id": stored.request_id, "idempotent-replayed": "true" },
    );
  }
  const headers = new Headers(stored.headers);
  headers.set("idempotent-replayed", "true");
  headers.set("tollgate-request-id", stored.request_id);
  if (stored.charge !== null) headers.set("tollgate-charge", String(stored.charge));
  const bytes = decodeBase64(stored.body);
  return new Response(bytes, { status: stored.status, headers });
}

/** What the response copy read: the whole body (base64; null when too large to keep), or a broken read. */
export type KeptBody = { complete: true; base64: string | null } | { complete: false };

/**
 * A copy of the response read beside the agent's (a `tee` branch the agent does not wait on), to
 * keep with the call's key. It is read as it arrives; past MAX_KEPT_BODY it stops keeping and
 * cancels its branch (an unread branch would buffer the rest). `cancel()` drops it, so the
 * origin is no longer read for a call that will not be kept.
 */
export function copyOf(stream: ReadableStream<Uint8Array> | null): { body: Promise<KeptBody>; cancel(): void } {
  if (!stream) return { body: Promise.resolve({ complete: true, base64: "" }), cancel: () => undefined };
  const reader = stream.getReader();
  let cancelled = false;
  const read = async (): Promise<KeptBody> => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        size += next.value.byteLength;
        if (size > MAX_KEPT_BODY) {
          await reader.cancel().catch(() => undefined);
          return { complete: true, base64: null };
        }
        chunks.push(next.value);
      }
    } catch {
      return { complete: false };
    }
    // A cancelled read ends like a finished one: what it holds is only part of the body.
    if (cancelled) return { complete: false };
    return { complete: true, base64: encodeBase64(concatBytes(...chunks).buffer) };
  };
  const cancel = () => {
    cancelled = true;
    reader.cancel().catch(() => undefined);
  };
  return { body: read(), cancel };
}
