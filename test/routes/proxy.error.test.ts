/**
 * Failed proxied calls: each is problem+json (or the origin's own 4xx), carries
 * tollgate-request-id, and costs nothing. Voids run in `waitUntil`, so balances are read once
 * no hold is pending (`settledBalance`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { balance, call, createProvider, createService, expectProblem, payer, settledBalance, transfers } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const untouched = (posted: number) => ({ currency: "USD", posted, pending: 0, available: posted });

describe("refused before the origin", () => {
  it("no matching price rule → 404 no_price; nothing reserved or charged", async () => {
    const svc = await createService(prov.key, { prices: [{ match: { method: "POST", path: "/v1/*" }, per_call: 5 }] });
    const p = await payer(100);
    for (const [method, path] of [
      ["GET", "/v1/translate"],
      ["POST", "/echo"],
      ["DELETE", "/v1"],
    ]) {
      const res = await call(`/s/${svc.slug}${path}`, { method, key: p.agentKey, body: method === "POST" ? {} : undefined });
      const problem = await expectProblem(res, 404, "no_price");
      expect(problem.detail).toContain(path);
      expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    }
    expect(await balance(p.accountId)).toEqual(untouched(100));
    expect(await transfers(p.accountId)).toHaveLength(1);
  });

  it("an unknown slug → 404 unknown_service", async () => {
    const p = await payer(100);
    const res = await call("/s/no-such-service/echo", { key: p.agentKey });
    await expectProblem(res, 404, "unknown_service");
    expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    await expectProblem(await call("/s/no-such-service"), 404, "unknown_service");
  });

  it("402 insufficient_funds says the price and what is available; nothing is forwarded or charged", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(1500);
    const res = await call(`/s/${svc.slug}/echo`, { method: "POST", key: p.agentKey, body: "side effect" });
    const problem = await expectProblem(res, 402, "insufficient_funds");
    expect(problem).toMatchObject({ price: 2000, available: 1500, currency: "USD" });
    expect(problem.path).toBeUndefined(); // not the echo origin's body
    expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(await balance(p.accountId)).toEqual(untouched(1500));
    expect(await transfers(p.accountId)).toHaveLength(1);
  });

  it("402 with nothing forwarded even when the origin is unreachable (no 502 leaks through)", async () => {
    const svc = await createService(prov.key, { origin: "http://127.0.0.1:1", prices: [{ per_call: 1 }] });
    const p = await payer(0);
    await expectProblem(await call(`/s/${svc.slug}/x`, { key: p.agentKey }), 402, "insufficient_funds");
  });

  it("the exact balance pays for one call; the next is 402 with available 0", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(2000);
    const ok = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("tollgate-balance")).toBe("0");
    await ok.body?.cancel();
    const refused = await expectProblem(await call(`/s/${svc.slug}/echo`, { key: p.agentKey }), 402, "insufficient_funds");
    expect(refused).toMatchObject({ price: 2000, available: 0 });
    expect(await balance(p.accountId)).toEqual(untouched(0));
  });
});

describe("origin failures cost nothing", () => {
  it.each([500, 502, 503])("origin %i → 502 origin_error, tollgate-charge 0, balance unchanged", async (status) => {
    const svc = await createService(prov.key, { prices: [{ per_call: 250 }] });
    const p = await payer(1000);
    const res = await call(`/s/${svc.slug}/status/${status}`, { key: p.agentKey });
    const problem = await expectProblem(res, 502, "origin_error");
    expect(problem.origin_status).toBe(status);
    expect(res.headers.get("tollgate-charge")).toBe("0");
    expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(await settledBalance(p.accountId)).toEqual(untouched(1000));
    expect(await transfers(p.accountId)).toHaveLength(1);
  });

  it("origin slower than timeout_ms → 504 origin_timeout, promptly, tollgate-charge 0, balance unchanged", async () => {
    const svc = await createService(prov.key, { timeout_ms: 200, prices: [{ per_call: 250 }] });
    const p = await payer(1000);
    const started = Date.now();
    const res = await call(`/s/${svc.slug}/slow?ms=2000`, { key: p.agentKey });
    expect(Date.now() - started).toBeLessThan(1500);
    await expectProblem(res, 504, "origin_timeout");
    expect(res.headers.get("tollgate-charge")).toBe("0");
    expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(await settledBalance(p.accountId)).toEqual(untouched(1000));
    expect(await transfers(p.accountId)).toHaveLength(1);
  });

  it("an origin that answers within timeout_ms is served and charged", async () => {
    const svc = await createService(prov.key, { timeout_ms: 2000, prices: [{ per_call: 250 }] });
    const p = await payer(1000);
    const res = await call(`/s/${svc.slug}/slow?ms=50`, { key: p.agentKey });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ slept_ms: 50 });
    expect(await balance(p.accountId)).toEqual(untouched(750));
  });

  it("connection refused → 502 origin_error, tollgate-charge 0, balance unchanged", async () => {
    const svc = await createService(prov.key, { origin: "http://127.0.0.1:1", prices: [{ per_call: 250 }] });
    const p = await payer(1000);
    const res = await call(`/s/${svc.slug}/anything`, { method: "POST", key: p.agentKey, body: { a: 1 } });
    await expectProblem(res, 502, "origin_error");
    expect(res.headers.get("tollgate-charge")).toBe("0");
    expect(await settledBalance(p.accountId)).toEqual(untouched(1000));
  });

  it.each([400, 404, 409, 429])("origin %i → passed through as is, tollgate-charge 0, balance unchanged", async (status) => {
    const svc = await createService(prov.key, { prices: [{ per_call: 250 }] });
    const p = await payer(1000);
    const res = await call(`/s/${svc.slug}/status/${status}`, { key: p.agentKey });
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ status });
    expect(res.headers.get("tollgate-charge")).toBe("0");
    expect(res.headers.get("tollgate-balance")).toBe("1000");
    expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(await settledBalance(p.accountId)).toEqual(untouched(1000));
    expect(await transfers(p.accountId)).toHaveLength(1);
  });

  it("after failures, the freed money pays for a good call", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 600 }] });
    const p = await payer(1000);
    await expectProblem(await call(`/s/${svc.slug}/status/500`, { key: p.agentKey }), 502, "origin_error");
    await settledBalance(p.accountId);
    const ok = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("tollgate-balance")).toBe("400");
    await ok.body?.cancel();
  });
});

describe("credentials on the proxy", () => {
  it("no key → 402 payment_required (with an offer); a non-agent key → 401 invalid_key; both carry tollgate-request-id", async () => {
    const svc = await createService(prov.key);
    const p = await payer(10_000);
    const none = await call(`/s/${svc.slug}/echo`);
    await expectProblem(none, 402, "payment_required");
    expect(none.headers.get("payment-required")).toBeTruthy();
    expect(none.headers.get("tollgate-request-id")).toMatch(/^req_/);
    const owner = await call(`/s/${svc.slug}/echo`, { key: p.ownerKey });
    await expectProblem(owner, 401, "invalid_key");
    expect(owner.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(await balance(p.accountId)).toEqual(untouched(10_000));
  });
});
