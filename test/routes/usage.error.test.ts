import { beforeAll, describe, expect, it } from "vitest";
import { call, createProvider, createService, expectProblem, payer } from "./helpers";

// POST /v1/usage: the ledger's refusals of a provider's report, as API errors
// (worker/account-client/refusals.ts, usageRefusal). Nothing is charged by a refused report.

const DEFERRED = { meter: "units", rate: { amount: 10, per: 1 }, hold: 777, deferred: true };

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

/** One proxied call; returns its request id (the body is drained). */
async function served(slug: string, agentKey: string): Promise<string> {
  const res = await call(`/s/${slug}/echo/job`, { method: "POST", key: agentKey, body: { job: 1 } });
  expect(res.status).toBe(200);
  await res.body?.cancel();
  return res.headers.get("tollgate-request-id") ?? "";
}

describe("POST /v1/usage: refused reports", () => {
  it("a call not priced by deferred usage → 409 conflict", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 5 }] });
    const p = await payer(1_000);
    const requestId = await served(svc.slug, p.agentKey);
    const body = await expectProblem(await call("/v1/usage", { key: prov.key, body: { request_id: requestId, units: 1 } }), 409, "conflict");
    expect(body.detail).toBe("This call was not priced by deferred usage.");
  });

  it("a second report of the same call → 409 conflict naming the hold's state", async () => {
    const svc = await createService(prov.key, { prices: [DEFERRED] });
    const p = await payer(10_000);
    const requestId = await served(svc.slug, p.agentKey);
    const first = await call("/v1/usage", { key: prov.key, body: { request_id: requestId, units: 3 } });
    expect(first.status, await first.clone().text()).toBe(201);
    expect(await first.json()).toMatchObject({ request_id: requestId, held: 777, captured: 30 });
    const again = await expectProblem(await call("/v1/usage", { key: prov.key, body: { request_id: requestId, units: 3 } }), 409, "conflict");
    expect(again).toMatchObject({ detail: "This call's hold is already captured.", state: "captured" });
  });

  it("a request id of a real account that names no call → 404 not_found", async () => {
    const p = await payer(100);
    const requestId = `req_${p.accountId.slice("acct_".length)}_${"0".repeat(20)}`;
    const body = await expectProblem(await call("/v1/usage", { key: prov.key, body: { request_id: requestId, units: 1 } }), 404, "not_found");
    expect(body.detail).toBe("No such request.");
  });
});
