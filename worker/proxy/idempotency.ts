import type { StoredResponse } from "../../durable-objects/types";
import { ApiError } from "../errors";
import { sha256Hex } from "../ids";
import type { LedgerStub } from "../ledger/stub";

/** Responses larger than this are not kept for replay (a retry is then told so, not re-run). */
const MAX_KEPT_BODY = 1 << 20;

export type CallIdempotency = { key: string; fingerprint: string };

/**
 * The agent's `Idempotency-Key` and a digest of what it asks (method, path, query, body): the
 * same key with another call is a 422, never a replay of something else.
 */
export async function callIdempotency(request: Request, path: string, body: ArrayBuffer | null): Promise<CallIdempotency | null> {
  const key = request.headers.get("idempotency-key");
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
  const bytes = Uint8Array.from(atob(stored.body), (ch) => ch.charCodeAt(0));
  return new Response(bytes, { status: stored.status, headers });
}

/**
 * Reads a copy of the response (a `tee` branch the agent does not wait on) as base64, to keep
 * with the call's key; null when it is larger than MAX_KEPT_BODY. It is read as it arrives, so
 * the branch never buffers more than that.
 */
export async function collectBody(copy: ReadableStream<Uint8Array> | null): Promise<string | null> {
  if (!copy) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of copy) {
    size += chunk.byteLength;
    if (size > MAX_KEPT_BODY) return null;
    chunks.push(chunk);
  }
  let binary = "";
  for (const chunk of chunks) for (const byte of chunk) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Keeps the settled call's response with its key; a retry then gets it back. */
export async function keepForReplay(ledger: LedgerStub, holdId: string, body: Promise<string | null>, meta: Omit<StoredResponse, "body">): Promise<void> {
  await ledger.keepResponse(holdId, { ...meta, body: await body });
}
