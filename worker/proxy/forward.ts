import { forwardRequestHeaders } from "./headers";

/**
 * `latencyMs`: from sending the request to the origin until its response headers arrived (the
 * service's SLA is judged on it; a streamed body's time is not part of it).
 */
export type OriginOutcome = { ok: true; response: Response; latencyMs: number } | { ok: false; reason: "origin_timeout" | "origin_unreachable" };

/** `origin` + the path after the slug + the query; the origin's own path prefix is kept. */
export function upstreamUrl(origin: string, path: string, search: string): string {
  return `${origin.replace(/\/+$/, "")}${path}${search}`;
}

/**
 * Sends the call to the origin: streamed body, cleaned headers, `redirect: "manual"` (a 3xx is
 * returned to the agent, never followed), and a deadline for the response headers.
 */
export async function callOrigin(
  request: Request,
  target: string,
  extraHeaders: Record<string, string>,
  timeoutMs: number,
  /** The body when the proxy already read it (to bound an LLM call's hold); else it streams. */
  body?: ArrayBuffer | null,
): Promise<OriginOutcome> {
  const headers = forwardRequestHeaders(request.headers);
  for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const sentAt = Date.now();
    const response = await fetch(target, {
      method: request.method,
      headers,
      body: hasBody ? (body ?? request.body) : null,
      redirect: "manual",
      signal: controller.signal,
    });
    return { ok: true, response, latencyMs: Date.now() - sentAt };
  } catch (err) {
    if (!timedOut) console.warn("origin unreachable", target, String(err));
    return { ok: false, reason: timedOut ? "origin_timeout" : "origin_unreachable" };
  } finally {
    clearTimeout(timer);
  }
}
