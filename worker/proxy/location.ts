/**
 * Redirects are returned to the agent, never followed (forward.ts). A `Location` that points at
 * the origin is rewritten to the gateway, so the agent's next request goes through Tollgate —
 * metered and signed — instead of straight to the provider's origin (which it could not pay for,
 * and whose address is the provider's business):
 *
 * - absolute URL on the origin (same scheme, host and port), under the origin's path prefix
 *     → the gateway's absolute URL of the same path: `https://gw/s/{slug}{rest}` or
 *       `https://custom.host{rest}`;
 * - relative reference (`/echo`, `../x`, `?page=2`) → kept when it already resolves to that
 *   place at the gateway, else the path-absolute form of it (`/s/{slug}{rest}`), so it never
 *   lands on another gateway route (the JSON API) with the agent's key;
 * - a place on the origin outside the service's path prefix is not reachable through the service:
 *   the header is dropped rather than send the agent, with its key, somewhere else on the gateway;
 * - any other host: left as is (the agent's client decides; it is not Tollgate's call, and clients
 *   drop credentials on a cross-origin redirect).
 */

export type GatewayPlace = {
  /** The service's origin (absolute URL, maybe with a path prefix). */
  origin: string;
  /** The URL Tollgate fetched (a relative Location resolves against it). */
  target: string;
  /** The URL the agent called. */
  request: string;
  /** The gateway path the service lives under: `/s/{slug}`, or "" on a custom hostname. */
  base: string;
};

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

/** The Location to send the agent for one the origin sent; null to drop the header. */
export function gatewayLocation(location: string, place: GatewayPlace): string | null {
  let resolved: URL;
  let origin: URL;
  let request: URL;
  try {
    resolved = new URL(location, place.target);
    origin = new URL(place.origin);
    request = new URL(place.request);
  } catch {
    // Nothing a client could follow either; do not let it guess.
    return null;
  }
  if (resolved.origin !== origin.origin) return location;
  const prefix = origin.pathname.replace(/\/+$/, "");
  const path = resolved.pathname;
  if (prefix !== "" && path !== prefix && !path.startsWith(`${prefix}/`)) return null;
  const rest = path.slice(prefix.length);
  const gatewayPath = `${place.base}${rest}` || "/";
  const there = `${gatewayPath}${resolved.search}${resolved.hash}`;
  const isAbsolute = ABSOLUTE.test(location) || location.startsWith("//");
  if (isAbsolute) return `${request.origin}${there}`;
  // A relative reference that already lands there at the gateway is left exactly as sent.
  if (new URL(location, request).href === new URL(there, request).href) return location;
  return there;
}

/** Rewrites `Location` and `Content-Location` in place (response headers already cleaned). */
export function rewriteLocations(headers: Headers, place: GatewayPlace): void {
  for (const name of ["location", "content-location"]) {
    const value = headers.get(name);
    if (value === null) continue;
    const next = gatewayLocation(value, place);
    if (next === null) headers.delete(name);
    else if (next !== value) headers.set(name, next);
  }
}
