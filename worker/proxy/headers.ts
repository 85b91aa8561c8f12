/** RFC 9110 §7.6.1 connection-specific ("hop-by-hop") headers, never forwarded either way. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Request headers the origin must never see: the agent's credentials and what the edge adds. */
const CLIENT_ONLY = new Set(["authorization", "x-api-key", "payment-signature", "host", "content-length", "idempotency-key"]);

/**
 * Tollgate's signature fields (signing.ts). A client's copy is dropped, not merely overwritten: a
 * GET carries no `content-digest` of Tollgate's, and an origin must only ever see Tollgate's own.
 */
const SIGNATURE_FIELDS = new Set(["signature", "signature-input", "content-digest"]);

function connectionListed(headers: Headers): Set<string> {
  const listed = new Set<string>();
  for (const name of (headers.get("connection") ?? "").split(",")) {
    const n = name.trim().toLowerCase();
    if (n) listed.add(n);
  }
  return listed;
}

/**
 * The headers to send to the origin: the agent's, minus hop-by-hop ones (and whatever
 * `Connection` lists), minus credentials, minus any client-sent copy of Tollgate's own headers
 * (`tollgate-*`) and of the edge's (`cf-*`, `x-forwarded-*`), so none can be forged.
 */
export function forwardRequestHeaders(incoming: Headers): Headers {
  const listed = connectionListed(incoming);
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || listed.has(name) || CLIENT_ONLY.has(name) || SIGNATURE_FIELDS.has(name)) continue;
    if (name.startsWith("tollgate-") || name.startsWith("cf-") || name.startsWith("x-forwarded-")) continue;
    out.append(name, value);
  }
  return out;
}

/** The origin's response headers minus hop-by-hop ones and any `tollgate-*` it tried to set. */
export function forwardResponseHeaders(incoming: Headers): Headers {
  const listed = connectionListed(incoming);
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || listed.has(name) || name.startsWith("tollgate-")) continue;
    out.append(name, value);
  }
  return out;
}
