/**
 * Currency mismatches and bad currencies: a call from an account in another currency than the
 * service's is refused before anything moves (409 currency_mismatch), and a bad or changed
 * currency on a service is a 400 that changes nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, balance, call, createProvider, createService, expectProblem, originUrl, payer, transfers, unique } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

describe("a call in another currency than the account's", () => {
  it("a JPY account calling a USD service: 409 currency_mismatch naming both; not forwarded, not charged, audited", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(1_000_000, "JPY");
    const res = await call(`/s/${svc.slug}/echo/wrong-money`, { key: p.agentKey, body: { text: "hi" } });
    const problem = await expectProblem(res, 409, "currency_mismatch");
    expect(problem).toMatchObject({ account_currency: "JPY", service_currency: "USD" });
    expect(problem.detail).toBe("This service prices in USD; the account is in JPY.");
    // The origin would have answered 200 with the echo; the refusal came first.
    expect(problem.path).toBeUndefined();
    const requestId = res.headers.get("tollgate-request-id");
    expect(requestId).toMatch(/^req_/);
    expect(res.headers.get("tollgate-charge")).toBeNull();
    expect(await balance(p.accountId)).toEqual({ currency: "JPY", posted: 1_000_000, pending: 0, available: 1_000_000 });
    expect((await transfers(p.accountId)).map((t) => t.kind)).toEqual(["credit"]);
    // On the account's audit trail, like every other refusal.
    const audit = await api(`/v1/accounts/${p.accountId}/audit?limit=1`, { key: OPERATOR });
    expect(audit.body.data[0]).toMatchObject({
      event: "hold",
      outcome: "refused",
      reason: "currency_mismatch",
      service_id: svc.id,
      request_id: requestId,
      amount: 2000,
    });
  });

  it("a USD account calling a EUR service is refused the same way", async () => {
    const svc = await createService(prov.key, { currency: "EUR", prices: [{ per_call: 1 }] });
    const p = await payer(10);
    const problem = await expectProblem(await call(`/s/${svc.slug}/echo`, { key: p.agentKey }), 409, "currency_mismatch");
    expect(problem).toMatchObject({ account_currency: "USD", service_currency: "EUR" });
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 10, pending: 0, available: 10 });
  });
});

describe("bad currencies on a service → 400 problem+json, nothing stored", () => {
  const valid = () => ({ slug: unique("cur"), name: "n", origin: originUrl(), prices: [{ per_call: 1 }] });

  for (const [what, currency] of [
    ["lower case", "usd"],
    ["four letters", "USDT"],
    ["two letters", "US"],
    ["digits", "840"],
    ["a number", 840],
    ["null", null],
    ["empty", ""],
  ] as const) {
    it(`create with ${what} (${JSON.stringify(currency)})`, async () => {
      const body = { ...valid(), currency };
      const problem = await expectProblem(await call("/v1/services", { key: prov.key, body }), 400, "invalid_request");
      expect(problem.errors.map((e: { path: string }) => e.path)).toEqual(["currency"]);
      // The slug was not taken: nothing was stored.
      expect((await api("/v1/services", { key: prov.key, body: { ...body, currency: "USD" } })).status).toBe(201);
    });
  }

  it("PATCH with a malformed currency", async () => {
    const svc = await createService(prov.key);
    await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { currency: "eur" } }), 400, "invalid_request");
  });

  it("PATCH to another currency is refused, by provider and operator alike, and nothing changes", async () => {
    const svc = await createService(prov.key, { currency: "USD" });
    for (const key of [prov.key, OPERATOR]) {
      const res = await call(`/v1/services/${svc.id}`, { method: "PATCH", key, body: { currency: "JPY", name: "Renamed" } });
      const problem = await expectProblem(res, 400, "invalid_request");
      expect(problem.errors).toEqual([{ path: "currency", message: expect.stringContaining("fixed at USD") }]);
    }
    const got = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect(got.body).toMatchObject({ currency: "USD", name: svc.name, updated_at: svc.updated_at });
  });
});
