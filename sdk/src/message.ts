/**
 * The request being verified, whatever it arrived as: a fetch `Request` (Workers, Deno, Bun, Hono,
 * Node's fetch) or a plain object (Node `http`, Express; see `fromNodeRequest`).
 */

/** A request as plain values. `url` must be absolute; its host is the `@authority` checked. */
export type PlainRequest = {
  method: string;
  url: string;
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The raw body bytes exactly as received (none for GET). */
  body?: Uint8Array | ArrayBuffer | string | null;
};

export type VerifiableRequest = Request | PlainRequest;

export type MessageView = {
  method: string;
  url: URL;
  /** A field's value (several lines joined by ", "), or null when absent. */
  header(name: string): string | null;
  /** The body's bytes; reading them leaves a `Request` readable for the application. */
  body(): Promise<Uint8Array<ArrayBuffer>>;
};

function isFetchRequest(r: VerifiableRequest): r is Request {
  return typeof (r as Request).clone === "function" && typeof (r as Request).arrayBuffer === "function";
}

export function viewOf(request: VerifiableRequest): MessageView {
  if (isFetchRequest(request)) {
    return {
      method: request.method,
      url: new URL(request.url),
      header: (name) => request.headers.get(name),
      body: async () => (request.body ? new Uint8Array(await request.clone().arrayBuffer()) : new Uint8Array()),
    };
  }
  const { headers } = request;
  const header =
    typeof (headers as Headers).get === "function"
      ? (name: string) => (headers as Headers).get(name)
      : lowerCased(headers as Record<string, string | string[] | undefined>);
  return { method: request.method, url: new URL(request.url), header, body: async () => bytesOf(request.body) };
}

function lowerCased(record: Record<string, string | string[] | undefined>): (name: string) => string | null {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(", ") : value;
    map.set(key, map.has(key) ? `${map.get(key)}, ${joined}` : joined);
  }
  return (name) => map.get(name) ?? null;
}

function bytesOf(body: PlainRequest["body"]): Uint8Array<ArrayBuffer> {
  if (body === undefined || body === null) return new Uint8Array();
  // encode() always returns a fresh ArrayBuffer (some lib typings say ArrayBufferLike).
  if (typeof body === "string") return new TextEncoder().encode(body) as Uint8Array<ArrayBuffer>;
  // WebCrypto takes ArrayBuffer-backed views only; a Node Buffer is one, anything else is copied.
  if (body instanceof Uint8Array) return body.buffer instanceof ArrayBuffer ? (body as Uint8Array<ArrayBuffer>) : Uint8Array.from(body);
  return new Uint8Array(body);
}

/** The parts of a Node `http.IncomingMessage` or an Express request that the verifier reads. */
export type NodeRequestLike = {
  method?: string;
  url?: string;
  /** Express: the URL before a router mount stripped its prefix. */
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
};

/**
 * A Node `http` (or Express) request and its raw body as a `PlainRequest`. The URL is rebuilt
 * from the `Host` header; pass `verifyTollgateRequest` an `authority` if a proxy in front of the
 * origin rewrites it.
 */
export function fromNodeRequest(req: NodeRequestLike, body?: Uint8Array | string | null): PlainRequest {
  const host = req.headers.host;
  const authority = (Array.isArray(host) ? host[0] : host) ?? "invalid.invalid";
  return { method: req.method ?? "GET", url: `http://${authority}${req.originalUrl ?? req.url ?? "/"}`, headers: req.headers, body: body ?? null };
}
