/**
 * Redirects are returned, never followed; a Location on the origin is rewritten so the agent's
 * next request comes back through the gateway (worker/proxy/location.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  balance,
  call,
  createHostedService,
  createService,
  GATEWAY,
  originUrl,
  type Payer,
  type Provider,
  providerServicePayer,
  type ServiceRef,
  unique,
} from "./helpers";

let prov: Provider, svc: ServiceRef, p: Payer;
beforeAll(async () => {
  ({ prov, svc, p } = await providerServicePayer({ prices: [{ per_call: 1 }] }, 1_000_000));
});

/** A 302 through the gateway: its Location, after checking it was returned (not followed) and charged. */
async function redirected(path: string, init: { base?: string; headers?: Record<string, string> } = {}): Promise<string | null> {
  const res = await call(path, { key: p.agentKey, ...init });
  expect(res.status, await res.clone().text()).toBe(302);
  expect(await res.json()).toEqual({ moved: true }); // the origin's own 3xx body: not followed
  expect(res.headers.get("tollgate-charge")).toBe("1");
  return res.headers.get("location");
}

/** Follows a Location the way a client would, against the URL it came from. */
async function follow(location: string, from: string): Promise<{ path: string; query: string }> {
  const next = new URL(location, from);
  const res = await call(`${next.pathname}${next.search}`, { key: p.agentKey, base: next.origin });
  expect(res.status).toBe(200);
  return res.json();
}

const to = (location: string) => `/redirect/to?location=${encodeURIComponent(location)}`;

describe("a Location on the origin points back at the gateway", () => {
  it("relative (/echo) → under the slug, and following it lands on the origin's /echo through the gateway", async () => {
    const location = await redirected(`/s/${svc.slug}/redirect`);
    expect(location).toBe(`/s/${svc.slug}/echo`);
    expect((await follow(location as string, `${GATEWAY}/s/${svc.slug}/redirect`)).path).toBe("/echo");
  });

  it("absolute on the origin's own URL → the gateway's absolute URL of the same path and query", async () => {
    const location = await redirected(`/s/${svc.slug}/redirect/absolute`);
    expect(location).toBe(`${GATEWAY}/s/${svc.slug}/echo/moved?from=absolute`);
    expect(location).not.toContain(new URL(originUrl()).port);
    expect(await follow(location as string, GATEWAY)).toMatchObject({ path: "/echo/moved", query: "?from=absolute" });
  });

  it("relative-path references that already resolve under the slug are left exactly as sent", async () => {
    expect(await redirected(`/s/${svc.slug}${to("echo/next?x=1")}`)).toBe("echo/next?x=1");
    expect(await redirected(`/s/${svc.slug}${to("?page=2")}`)).toBe("?page=2");
  });

  it("an origin cannot send the agent (and its key) to the gateway's own API with a relative Location", async () => {
    const location = await redirected(`/s/${svc.slug}${to("/v1/me")}`);
    expect(location).toBe(`/s/${svc.slug}/v1/me`);
    expect(new URL(location as string, GATEWAY).pathname.startsWith(`/s/${svc.slug}/`)).toBe(true);
  });

  it("other hosts are left as is (returned, never followed by the gateway)", async () => {
    for (const elsewhere of ["https://elsewhere.example/x", "//elsewhere.example/y", `${originUrl().replace("127.0.0.1", "localhost")}/echo`]) {
      expect(await redirected(`/s/${svc.slug}${to(elsewhere)}`)).toBe(elsewhere);
    }
  });
});

describe("an origin with a path prefix", () => {
  let prefixed: { slug: string };
  beforeAll(async () => {
    prefixed = await createService(prov.key, { origin: `${originUrl()}/redirect`, prices: [{ per_call: 1 }] });
  });

  it("the prefix is stripped: /redirect/absolute on the origin is /s/{slug}/absolute", async () => {
    expect(await redirected(`/s/${prefixed.slug}${to("/redirect/absolute").replace("/redirect", "")}`)).toBe(`/s/${prefixed.slug}/absolute`);
    expect(await redirected(`/s/${prefixed.slug}${to(`${originUrl()}/redirect/to`).replace("/redirect", "")}`)).toBe(`${GATEWAY}/s/${prefixed.slug}/to`);
  });

  it("a place on the origin outside the prefix is not reachable through the service: the Location is dropped", async () => {
    for (const outside of ["/echo/x", `${originUrl()}/status/200`, "/redirectx"]) {
      expect(await redirected(`/s/${prefixed.slug}${to(outside).replace("/redirect", "")}`)).toBeNull();
    }
  });
});

describe("on a custom hostname", () => {
  let host: string;
  beforeAll(async () => {
    host = `${unique("moved")}.example.test`;
    await createHostedService(prov.key, { hostnames: [host], prices: [{ per_call: 1 }] });
  });

  it("a relative Location already resolves on the custom host: left as is", async () => {
    expect(await redirected("/redirect", { base: `http://${host}` })).toBe("/echo");
  });

  it("an absolute one becomes the custom host's URL", async () => {
    expect(await redirected("/redirect/absolute", { base: `http://${host}` })).toBe(`http://${host}/echo/moved?from=absolute`);
  });
});

describe("an idempotent replay carries the rewritten Location too", () => {
  it("the second call with the same Idempotency-Key is a replay, not charged again, with the same Location", async () => {
    const key = `idem-${unique("r")}`;
    const before = await balance(p.accountId);
    const first = await call(`/s/${svc.slug}/redirect/absolute`, { key: p.agentKey, headers: { "idempotency-key": key } });
    expect(first.status).toBe(302);
    await first.body?.cancel();
    let second: Response | null = null;
    for (let i = 0; i < 50; i++) {
      second = await call(`/s/${svc.slug}/redirect/absolute`, { key: p.agentKey, headers: { "idempotency-key": key } });
      if (second.headers.get("idempotent-replayed") === "true") break;
      await second.body?.cancel();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(second?.headers.get("idempotent-replayed")).toBe("true");
    expect(second?.status).toBe(302);
    expect(second?.headers.get("location")).toBe(first.headers.get("location"));
    expect(second?.headers.get("location")).toBe(`${GATEWAY}/s/${svc.slug}/echo/moved?from=absolute`);
    await second?.body?.cancel();
    expect((await balance(p.accountId)).posted).toBe(before.posted - 1);
  });
});
