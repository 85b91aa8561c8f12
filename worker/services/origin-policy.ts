import { ApiError } from "../errors";

/**
 * Which origins a service may forward to. A provider sets its origin, and Tollgate's Worker then
 * fetches it with the gateway's network position: an origin on a loopback, private, link-local or
 * otherwise non-public address would turn the gateway into a way into networks the provider
 * should not reach (SSRF). Those are refused unless the operator runs the gateway for local
 * development (`ALLOW_PRIVATE_ORIGINS = "true"`: `npm start`, the tests, the bench).
 *
 * The check is on the URL as written, after the WHATWG URL parser's normalization (which turns
 * `http://2130706433/`, `http://0x7f.1/` and `http://127.1/` into `127.0.0.1`, and IPv6 into its
 * compressed form). A public DNS name that *resolves* to a private address cannot be seen from
 * here (SECURITY.md, known limits).
 */

/** IPv4 ranges that are not public unicast destinations (RFC 6890 and its updates). */
const IPV4_RANGES: [string, number, string][] = [
  ["0.0.0.0", 8, "a 'this network' address (0.0.0.0/8)"],
  ["10.0.0.0", 8, "a private address (10.0.0.0/8)"],
  ["100.64.0.0", 10, "a shared (carrier-grade NAT) address (100.64.0.0/10)"],
  ["127.0.0.0", 8, "a loopback address (127.0.0.0/8)"],
  ["169.254.0.0", 16, "a link-local address (169.254.0.0/16)"],
  ["172.16.0.0", 12, "a private address (172.16.0.0/12)"],
  ["192.0.0.0", 24, "an IETF protocol-assignment address (192.0.0.0/24)"],
  ["192.0.2.0", 24, "a documentation address (192.0.2.0/24)"],
  ["192.88.99.0", 24, "a 6to4 relay anycast address (192.88.99.0/24)"],
  ["192.168.0.0", 16, "a private address (192.168.0.0/16)"],
  ["198.18.0.0", 15, "a benchmarking address (198.18.0.0/15)"],
  ["198.51.100.0", 24, "a documentation address (198.51.100.0/24)"],
  ["203.0.113.0", 24, "a documentation address (203.0.113.0/24)"],
  ["224.0.0.0", 4, "a multicast address (224.0.0.0/4)"],
  ["240.0.0.0", 4, "a reserved or broadcast address (240.0.0.0/4)"],
];

/** Special-use names that only ever mean a host on a local network (RFC 6761, 6762, 8375; ICANN's `.internal`). */
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "localdomain"];

function ipv4ToInt(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    n = n * 256 + Number(part);
  }
  return n;
}

const IPV4_TABLE = IPV4_RANGES.map(([base, bits, why]) => ({ base: ipv4ToInt(base) as number, bits, why }));

/** Why an IPv4 address (as a 32-bit number) is not public; null when it is. */
function ipv4Reason(n: number): string | null {
  for (const { base, bits, why } of IPV4_TABLE) {
    // Unsigned shifts: the top bit of an address is a sign bit in JS's 32-bit operators.
    if (n >>> (32 - bits) === base >>> (32 - bits)) return why;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (no brackets, no zone); null when malformed. */
export function parseIpv6(text: string): number[] | null {
  let head = text;
  const tail4: number[] = [];
  // A dotted IPv4 tail (`::ffff:1.2.3.4`); the URL parser never produces one, but be exact anyway.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4ToInt(dotted[2] as string);
    if (v4 === null) return null;
    head = `${dotted[1] as string}`;
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
    tail4.push(v4 >>> 16, v4 & 0xffff);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(halves[0] as string);
  const right = halves.length === 2 ? groups(halves[1] as string) : [];
  for (const g of [...left, ...right]) if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
  const known = left.length + right.length + tail4.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return null;
  const zeros = new Array<number>(8 - known).fill(0);
  return [...left.map((g) => parseInt(g, 16)), ...zeros, ...right.map((g) => parseInt(g, 16)), ...tail4];
}

/** Why an IPv6 address is not public; null when it is. */
function ipv6Reason(g: number[]): string | null {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g6 = 0, h = 0] = g;
  const embedded = (hi: number, lo: number) => hi * 65536 + lo;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0) {
    if (f === 0 && g6 === 0 && h === 0) return "the unspecified IPv6 address (::)";
    if (f === 0 && g6 === 0 && h === 1) return "the IPv6 loopback address (::1)";
    if (f === 0xffff) return "an IPv4-mapped IPv6 address (::ffff:0:0/96)";
    if (f === 0) return "an IPv4-compatible IPv6 address (::/96, deprecated)";
  }
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) {
    const inner = ipv4Reason(embedded(g6, h));
    if (inner) return `a NAT64 address of ${inner}`;
  }
  if (a === 0x64 && b === 0xff9b && c === 1) return "a local-use NAT64 address (64:ff9b:1::/48)";
  if (a === 0x100 && b === 0 && c === 0 && d === 0) return "a discard-only address (100::/64)";
  if (a === 0x2001 && b === 0) return "a Teredo tunnel address (2001::/32)";
  if (a === 0x2001 && b === 0xdb8) return "a documentation address (2001:db8::/32)";
  if (a === 0x2002) {
    const inner = ipv4Reason(embedded(b, c));
    if (inner) return `a 6to4 address of ${inner}`;
  }
  if (a >>> 4 === 0x3ff && (a & 0xf) === 0xf) return "a documentation address (3fff::/20)";
  if ((a & 0xfe00) === 0xfc00) return "a unique local address (fc00::/7)";
  if ((a & 0xffc0) === 0xfe80) return "a link-local address (fe80::/10)";
  if ((a & 0xffc0) === 0xfec0) return "a site-local address (fec0::/10, deprecated)";
  if ((a & 0xff00) === 0xff00) return "a multicast address (ff00::/8)";
  return null;
}

/**
 * Why `origin` is not a public internet destination, or null when it is. `origin` is an absolute
 * URL (the service schema has already checked its shape); an unparsable one is refused too.
 */
export function nonPublicReason(origin: string): string | null {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return "not an absolute URL";
  }
  const host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = parseIpv6(host.slice(1, -1));
    return groups ? ipv6Reason(groups) : "an IPv6 address that cannot be read";
  }
  const v4 = ipv4ToInt(host);
  if (v4 !== null) return ipv4Reason(v4);
  // "localhost." is "localhost": a trailing dot only makes the name fully qualified.
  const name = host.replace(/\.+$/, "");
  if (name === "") return "an empty host name";
  for (const suffix of LOCAL_SUFFIXES) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return `a local-network name (${suffix}, *.${suffix})`;
  }
  // `http://metadata/`, `http://intranet/`: resolved through a local search domain, never public DNS.
  if (!name.includes(".")) return "a single-label host name (only resolvable on a local network)";
  return null;
}

/** Why this origin may not be used with this setting, or null when it may. */
export function originRefusal(origin: string, allowPrivate: boolean): string | null {
  return allowPrivate ? null : nonPublicReason(origin);
}

/**
 * For service create and PATCH: a 400 naming the problem when the origin is not a public address
 * and the operator has not enabled private origins for local development.
 */
export function assertPublicOrigin(origin: string, allowPrivate: boolean): void {
  const why = originRefusal(origin, allowPrivate);
  if (why === null) return;
  let host = origin;
  try {
    host = new URL(origin).hostname;
  } catch {
    // already explained by `why`
  }
  throw new ApiError(
    "invalid_request",
    `origin: ${host} is ${why}; origins must be public internet addresses ` +
      `(loopback, private, link-local and local-network names are refused unless the operator sets ALLOW_PRIVATE_ORIGINS for local development)`,
    { errors: [{ path: "origin", message: `${why}: not a public address` }] },
  );
}
