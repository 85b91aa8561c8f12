import { beforeAll, describe, expect, it } from "vitest";
import { assertCanonicalPath } from "../../worker/proxy/canonical";
import {
  balance,
  call,
  createHostedService,
  createService,
  expectProblem,
  payer,
  type Payer,
  type Provider,
  providerServicePayer,
  type ServiceRef,
  transfers,
  unique,
} from "./helpers";

let prov: Provider, svc: ServiceRef, p: Payer;
beforeAll(async () => {
  ({ prov, svc, p } = await providerServicePayer({ prices: [{ per_call: 1 }] }, 1_000_000));
});

async function echoed(res: Response): Promise<Record<string, string>> {
  expect(res.status).toBe(200);
  return ((await res.json()) as { headers: Record<string, string> }).headers;
}

describe("header hygiene: what the origin sees", () => {
  it("never the agent's credentials, client-sent tollgate-*, Connection-listed or hop-by-hop headers", async () => {
    const res = await call(`/s/${svc.slug}/echo`, {
      key: p.agentKey,
      headers: {
        "x-api-key": p.agentKey,
        "tollgate-request-id": "req_forged",
        "tollgate-charge": "0",
        "tollgate-signature": "forged",
        connection: "x-private-hop, keep-alive",
        "x-private-hop": "secret",
        "keep-alive": "timeout=5",
        "proxy-authorization": "Basic eDp5",
        te: "trailers",
        "x-forwarded-for": "6.6.6.6",
        "x-forwarded-host": "evil.example",
        "cf-connecting-ip": "6.6.6.6",
        "idempotency-key": "client-only",
        "x-custom": "kept",
        "user-agent": "agent/1.0",
      },
    });
    const requestId = res.headers.get("tollgate-request-id");
    const seen = await echoed(res);
    for (const name of [
      "authorization",
      "x-api-key",
      "tollgate-charge",
      "tollgate-signature",
      "connection",
      "x-private-hop",
      "keep-alive",
      "proxy-authorization",
      "te",
      "x-forwarded-for",
      "x-forwarded-host",
      "cf-connecting-ip",
      "idempotency-key",
    ]) {
      expect(seen, name).not.toHaveProperty(name);
    }
    expect(JSON.stringify(seen)).not.toContain(p.agentKey);
    expect(seen["x-custom"]).toBe("kept");
    expect(seen["user-agent"]).toBe("agent/1.0");
    expect(requestId).toMatch(/^req_/);
    expect(seen["tollgate-request-id"]).toBe(requestId);
    expect(requestId).not.toBe("req_forged");
  });

  it("an agent key sent only as x-api-key does not reach the origin either", async () => {
    const seen = await echoed(await call(`/s/${svc.slug}/echo`, { headers: { "x-api-key": p.agentKey } }));
    expect(seen).not.toHaveProperty("x-api-key");
    expect(JSON.stringify(seen)).not.toContain(p.agentKey);
  });

  it("Connection cannot strip the gateway's own headers: tollgate-request-id still arrives", async () => {
    const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { connection: "tollgate-request-id, host" } });
    const id = res.headers.get("tollgate-request-id");
    const seen = await echoed(res);
    expect(seen["tollgate-request-id"]).toBe(id);
    expect(seen.host).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("a client Host header naming another service is refused (400) before anything is held", async () => {
    const host = `${unique("hosted")}.example.test`;
    await createHostedService(prov.key, { hostnames: [host], prices: [{ per_call: 999 }] });
    const before = await balance(p.accountId);
    const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { host } });
    expect(res.status).toBe(400);
    expect((await res.json<{ code: string }>()).code).toBe("non_canonical_request");
    expect(await balance(p.accountId)).toEqual(before);
  });

  it("Connection: authorization, x-api-key does not unauthenticate the call (the key is read first), and neither reaches the origin", async () => {
    const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { connection: "authorization, x-api-key", "x-api-key": p.agentKey } });
    expect(res.headers.get("tollgate-charge")).toBe("1");
    const seen = await echoed(res);
    expect(seen).not.toHaveProperty("authorization");
    expect(seen).not.toHaveProperty("x-api-key");
    expect(seen).not.toHaveProperty("connection");
  });

  it("the gateway's response headers are its own: client-sent tollgate-* values do not echo back", async () => {
    const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { "tollgate-charge": "0", "tollgate-balance": "999999999" } });
    expect(res.headers.get("tollgate-charge")).toBe("1");
    expect(Number(res.headers.get("tollgate-balance"))).toBeLessThan(1_000_000);
    await res.body?.cancel();
  });
});

describe("non-canonical request targets → 400 before auth; nothing charged", () => {
  const targets = (slug: string) => [
    `/s/${slug}/a/..%2f`,
    `/s/${slug}/a/..%2fsecret`,
    `/s/${slug}/%2e%2e%2fecho`,
    `/s/${slug}/%2E%2E%2Fecho`,
    `/s/${slug}//echo`,
    `/s/${slug}/echo//x`,
    `/s/${slug}/echo%2fx`,
    `/s/${slug}/echo%2Fx`,
    `/s/${slug}/echo%5c..%5cx`,
    `/s/${slug}/echo%00`,
    `/s/${slug}/echo%0d%0aX-Injected:%201`,
  ];

  it("without any key: 400 non_canonical_request (not 401)", async () => {
    for (const target of targets(svc.slug)) {
      await expectProblem(await call(target), 400, "non_canonical_request");
    }
  });

  it("with a valid key: 400, no hold, no charge", async () => {
    const before = await balance(p.accountId);
    const count = (await transfers(p.accountId, "?limit=100")).length;
    for (const target of targets(svc.slug)) {
      const res = await call(target, { key: p.agentKey });
      await expectProblem(res, 400, "non_canonical_request");
      expect(res.headers.get("tollgate-charge")).toBeNull();
    }
    expect(await balance(p.accountId)).toEqual({ ...before, pending: 0 });
    expect(await transfers(p.accountId, "?limit=100")).toHaveLength(count);
  });

  it("for an unknown slug too (checked before the service lookup)", async () => {
    await expectProblem(await call("/s/nobody/a/..%2f"), 400, "non_canonical_request");
  });

  it("on a custom hostname as well", async () => {
    const host = `${unique("canon")}.example.test`;
    await createHostedService(prov.key, { hostnames: [host], prices: [{ per_call: 1 }] });
    for (const path of ["//echo", "/echo/..%2f", "/%2e%2e%2fecho", "/echo%2fx"]) {
      await expectProblem(await call(path, { base: `http://${host}` }), 400, "non_canonical_request");
    }
  });

  it("%2e%2e dot segments are folded by the URL parser before the Worker; the folded path is what is priced", async () => {
    // Only /echo/* is priced. "/echo/%2e%2e/status/200" arrives as "/status/200": refused, not
    // forwarded under the /echo/* price.
    const guarded = await createService(prov.key, { prices: [{ match: { path: "/echo/*" }, per_call: 3 }] });
    const before = await balance(p.accountId);
    for (const path of ["/echo/%2e%2e/status/200", "/echo/.%2E/status/200", "/echo/x/%2e%2e/%2e%2e/status/200"]) {
      await expectProblem(await call(`/s/${guarded.slug}${path}`, { key: p.agentKey }), 404, "no_price");
    }
    // Dot segments that climb out of the slug land on another route entirely, never this origin.
    const escaped = await call(`/s/${guarded.slug}/%2e%2e/%2e%2e/v1/me`, { key: p.agentKey });
    expect(escaped.status).toBe(200);
    expect((await escaped.json<any>()).account_id).toBe(p.accountId);
    expect(await balance(p.accountId)).toEqual(before);
  });

  it("the raw-path check itself refuses plain and encoded dot segments (the Worker's last line of defence)", () => {
    for (const raw of ["/s/x/a/%2e%2e", "/s/x/%2e%2e/y", "/s/x/.%2E/y", "/s/x/%2e/y", "/s/x/../y", "/s/x/./y", "relative"]) {
      expect(() => assertCanonicalPath(raw), raw).toThrow();
    }
    for (const ok of ["/s/x/a..b/y", "/s/x/%2e%2ea/y", "/s/x/y.json", "/"]) {
      expect(() => assertCanonicalPath(ok), ok).not.toThrow();
    }
  });
});

describe("races: 200 concurrent calls of price 1 against a balance of 50", () => {
  it("exactly 50 succeed with 200, 150 get 402, the final balance is 0", async () => {
    const racer = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const payerOf50 = await payer(50);
    const responses = await Promise.all(Array.from({ length: 200 }, () => call(`/s/${racer.slug}/echo/race`, { key: payerOf50.agentKey })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 402)).toHaveLength(150);
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.reduce((sum, r) => sum + Number(r.headers.get("tollgate-charge")), 0)).toBe(50);
    // `available` after each charge also nets the other calls' holds still in flight: never negative.
    for (const r of ok) expect(Number(r.headers.get("tollgate-balance"))).toBeGreaterThanOrEqual(0);
    for (const r of responses.filter((x) => x.status === 402)) {
      const problem = await expectProblem(r, 402, "insufficient_funds");
      expect(problem.price).toBe(1);
    }
    await Promise.all(ok.map((r) => r.body?.cancel()));
    expect(await balance(payerOf50.accountId)).toEqual({ currency: "USD", posted: 0, pending: 0, available: 0 });
    const journal = await transfers(payerOf50.accountId, "?limit=100");
    expect(journal.filter((t) => t.kind === "capture")).toHaveLength(50);
    expect(journal.map((t) => t.seq)).toEqual(Array.from({ length: 51 }, (_, i) => 51 - i));
  });
});
