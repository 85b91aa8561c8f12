import { describe, expect, it } from "vitest";
import { gatewayLocation, rewriteLocations, type GatewayPlace } from "../../worker/proxy/location";

const bySlug: GatewayPlace = {
  origin: "https://api.provider.example",
  target: "https://api.provider.example/v1/jobs/7",
  request: "https://gw.example/s/acme/v1/jobs/7",
  base: "/s/acme",
};
const prefixed: GatewayPlace = {
  origin: "https://api.provider.example/api/",
  target: "https://api.provider.example/api/v1/jobs/7",
  request: "https://gw.example/s/acme/v1/jobs/7",
  base: "/s/acme",
};
const custom: GatewayPlace = {
  origin: "https://api.provider.example/api",
  target: "https://api.provider.example/api/v1/jobs/7",
  request: "https://ai.customer.example/v1/jobs/7",
  base: "",
};

describe("gatewayLocation", () => {
  it.each([
    // [place, origin's Location, what the agent gets]
    [bySlug, "https://api.provider.example/v1/jobs/8", "https://gw.example/s/acme/v1/jobs/8"],
    [bySlug, "https://API.provider.example:443/v1/jobs/8?x=1#f", "https://gw.example/s/acme/v1/jobs/8?x=1#f"],
    [bySlug, "//api.provider.example/done", "https://gw.example/s/acme/done"],
    [bySlug, "/v1/jobs/8", "/s/acme/v1/jobs/8"],
    [bySlug, "8", "8"], // already resolves to /s/acme/v1/jobs/8 at the gateway: left as is
    [bySlug, "../status", "../status"],
    [bySlug, "?page=2", "?page=2"],
    [bySlug, "/", "/s/acme/"],
    [bySlug, "/v1/../../../v1/me", "/s/acme/v1/me"], // dot segments resolved on the origin's side first
    [prefixed, "https://api.provider.example/api/v1/jobs/8", "https://gw.example/s/acme/v1/jobs/8"],
    [prefixed, "/api/v1/jobs/8", "/s/acme/v1/jobs/8"],
    [prefixed, "/api", "/s/acme"],
    [prefixed, "/api/", "/s/acme/"],
    [prefixed, "8", "8"],
    [custom, "https://api.provider.example/api/v2/x", "https://ai.customer.example/v2/x"],
    [custom, "/api/v2/x", "/v2/x"],
    [custom, "/api", "/"],
  ])("%#: %s → %s", (place, location, expected) => {
    expect(gatewayLocation(location, place)).toBe(expected);
  });

  it("other hosts, schemes and ports are left as is (never followed, not Tollgate's to rewrite)", () => {
    for (const other of [
      "https://elsewhere.example/x",
      "http://api.provider.example/v1", // another scheme is another origin
      "https://api.provider.example:8443/v1", // another port too
      "//evil.example/x",
      "mailto:someone@example.com",
    ]) {
      expect(gatewayLocation(other, bySlug), other).toBe(other);
    }
  });

  it("a place on the origin outside the service's path prefix is dropped (it would land elsewhere on the gateway)", () => {
    for (const outside of ["/v1/me", "/apiary", "https://api.provider.example/admin", "../../../v1/accounts"]) {
      expect(gatewayLocation(outside, prefixed), outside).toBeNull();
    }
  });

  it("a Location nothing could follow is dropped", () => {
    expect(gatewayLocation("http://[::1", bySlug)).toBeNull();
  });

  it("rewriteLocations rewrites Location and Content-Location in place and drops what must go", () => {
    const h = new Headers({ location: "/api/v1/a", "content-location": "/elsewhere", "x-other": "/api/v1/a" });
    rewriteLocations(h, prefixed);
    expect([...h]).toEqual([
      ["location", "/s/acme/v1/a"],
      ["x-other", "/api/v1/a"],
    ]);
  });
});
