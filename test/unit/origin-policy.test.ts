import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { config, type Env } from "../../worker/env";
import { ApiError } from "../../worker/errors";
import { assertPublicOrigin, nonPublicReason, originRefusal, parseIpv6 } from "../../worker/services/origin-policy";

/** Origins that are not public internet destinations, each with a word its refusal must name. */
const NON_PUBLIC: [string, RegExp][] = [
  // IPv4, in every spelling the URL parser folds to the same address.
  ["http://127.0.0.1:9000", /loopback/],
  ["http://127.255.255.254", /loopback/],
  ["http://2130706433", /loopback/], // decimal
  ["http://0x7f.1", /loopback/], // hex, short form
  ["http://017700000001", /loopback/], // octal
  ["http://127.1", /loopback/],
  ["http://①②⑦.0.0.1", /loopback/], // full-width digits (IDNA maps them)
  ["http://10.0.0.1", /private/],
  ["http://10.255.255.255", /private/],
  ["http://172.16.0.1", /private/],
  ["http://172.31.255.255", /private/],
  ["http://192.168.1.1", /private/],
  ["http://169.254.169.254/latest/meta-data", /link-local/], // cloud metadata
  ["http://0.0.0.0", /this network/],
  ["http://0", /this network/],
  ["http://100.64.0.1", /shared/],
  ["http://100.127.255.255", /shared/],
  ["http://192.0.0.8", /IETF/],
  ["http://192.0.2.1", /documentation/],
  ["http://198.18.0.1", /benchmarking/],
  ["http://198.51.100.7", /documentation/],
  ["http://203.0.113.9", /documentation/],
  ["http://224.0.0.1", /multicast/],
  ["http://255.255.255.255", /broadcast/],
  ["http://10.0.0.1.", /private/], // trailing dot
  // IPv6.
  ["http://[::1]", /loopback/],
  ["http://[0:0:0:0:0:0:0:1]:8080", /loopback/],
  ["http://[::]", /unspecified/],
  ["http://[fc00::1]", /unique local/],
  ["http://[fd12:3456:789a::1]", /unique local/],
  ["http://[fe80::1]", /link-local/],
  ["http://[febf:ffff::1]", /link-local/],
  ["http://[fec0::1]", /site-local/],
  ["http://[ff02::1]", /multicast/],
  ["http://[::ffff:127.0.0.1]", /IPv4-mapped/],
  ["http://[::ffff:8.8.8.8]", /IPv4-mapped/], // mapped at all: a provider has no reason to
  ["http://[::ffff:a9fe:a9fe]", /IPv4-mapped/],
  ["http://[::127.0.0.1]", /IPv4-compatible/],
  ["http://[64:ff9b::10.0.0.1]", /NAT64 .*private/],
  ["http://[64:ff9b:1::1]", /NAT64/],
  ["http://[2002:7f00:1::1]", /6to4 .*loopback/],
  ["http://[2001:db8::1]", /documentation/],
  ["http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]", /Teredo/],
  ["http://[100::1]", /discard/],
  // Names that only mean something on a local network.
  ["http://localhost:8787", /local-network/],
  ["http://LOCALHOST", /local-network/],
  ["http://localhost.", /local-network/],
  ["http://api.localhost", /local-network/],
  ["http://printer.local", /local-network/],
  ["http://db.internal", /local-network/],
  ["http://metadata.google.internal/computeMetadata/v1", /local-network/],
  ["http://nas.home.arpa", /local-network/],
  ["http://box.localdomain", /local-network/],
  ["http://metadata", /single-label/],
  ["http://intranet:8080", /single-label/],
];

const PUBLIC = [
  "https://api.example.com",
  "https://api.example.com/v1",
  "http://93.184.216.34",
  "https://8.8.8.8:8443",
  "http://172.15.255.255", // just below 172.16/12
  "http://172.32.0.1", // just above
  "http://100.63.255.255", // just below 100.64/10
  "http://100.128.0.1", // just above
  "http://192.169.0.1",
  "http://169.255.0.1",
  "http://11.0.0.1",
  "http://223.255.255.255",
  "https://[2606:4700:4700::1111]", // a public IPv6 address
  "https://[64:ff9b::808:808]", // NAT64 of a public address
  "https://[2002:808:808::1]", // 6to4 of a public address
  "https://localhost.example.com", // "localhost" as a label, not the name
  "https://local.example.com",
  "https://internal.example.org",
  "https://xn--bcher-kva.example", // IDN
];

describe("nonPublicReason: the pure check", () => {
  it.each(NON_PUBLIC)("%s is refused (%s)", (origin, why) => {
    expect(nonPublicReason(origin)).toMatch(why);
  });

  it.each(PUBLIC)("%s is public", (origin) => {
    expect(nonPublicReason(origin)).toBeNull();
  });

  it("refuses what it cannot read", () => {
    expect(nonPublicReason("not a url")).toMatch(/not an absolute URL/);
  });
});

describe("originRefusal / assertPublicOrigin: the flag", () => {
  it("with ALLOW_PRIVATE_ORIGINS every well-formed origin is allowed (local development)", () => {
    for (const [origin] of NON_PUBLIC) {
      expect(originRefusal(origin, true)).toBeNull();
      expect(() => assertPublicOrigin(origin, true)).not.toThrow();
    }
  });

  it("without it, a non-public origin is a 400 invalid_request naming the host, the reason and the flag", () => {
    let caught: unknown;
    try {
      assertPublicOrigin("http://169.254.169.254/latest", false);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const err = caught as ApiError;
    expect(err.code).toBe("invalid_request");
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^origin: 169\.254\.169\.254 is a link-local address/);
    expect(err.message).toMatch(/ALLOW_PRIVATE_ORIGINS/);
    expect(err.extra).toEqual({ errors: [{ path: "origin", message: expect.stringMatching(/link-local/) }] });
  });

  it("without it, a public origin passes", () => {
    for (const origin of PUBLIC) expect(() => assertPublicOrigin(origin, false)).not.toThrow();
  });
});

describe("parseIpv6", () => {
  it("reads compressed, full and dotted-tail forms", () => {
    expect(parseIpv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("fe80::1:2")).toEqual([0xfe80, 0, 0, 0, 0, 0, 1, 2]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6("::ffff:127.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect(parseIpv6("1:2:3:4:5:6:10.0.0.1")).toEqual([1, 2, 3, 4, 5, 6, 0x0a00, 1]);
  });

  it("refuses malformed addresses", () => {
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "::1.2.3.256", "1:2:3:4::5:6:7:8"]) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
  });
});

describe("ALLOW_PRIVATE_ORIGINS in the validated config", () => {
  const base = env as unknown as Env;

  it("unset means false: production never has to remember to turn it off", () => {
    const { ALLOW_PRIVATE_ORIGINS: _, ...rest } = base;
    expect(config({ ...rest }).ALLOW_PRIVATE_ORIGINS).toBe(false);
  });

  it('"true" and "false" only; anything else fails loudly', () => {
    expect(config({ ...base, ALLOW_PRIVATE_ORIGINS: "true" }).ALLOW_PRIVATE_ORIGINS).toBe(true);
    expect(config({ ...base, ALLOW_PRIVATE_ORIGINS: "false" }).ALLOW_PRIVATE_ORIGINS).toBe(false);
    for (const bad of ["yes", "1", "TRUE", ""]) {
      expect(() => config({ ...base, ALLOW_PRIVATE_ORIGINS: bad }), bad).toThrow(/ALLOW_PRIVATE_ORIGINS/);
    }
  });

  it("the test binding turns it on (the demo origin is on 127.0.0.1)", () => {
    expect(config(base).ALLOW_PRIVATE_ORIGINS).toBe(true);
  });
});
