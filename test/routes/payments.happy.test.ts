import { beforeAll, describe, expect, it } from "vitest";
import { decodeHeader } from "../../core/x402/headers";
import { fromB64urlJson } from "../../core/x402/offer";
import { GATEWAY, balance, call, createProvider, createService, expectProblem, payer, settledBalance, transfers } from "./helpers";
import { mppChallenge, mppPayment, x402Offer, x402Payment } from "./payment-helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

describe("a priced call without a credential: 402 with an offer for x402 and MPP clients", () => {
  it("offers the call's price, for this resource and service, in both protocols, and changes nothing", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const res = await call(`/s/${svc.slug}/echo/a?x=1`);
    const problem = await expectProblem(res, 402, "payment_required");
    expect(problem).toMatchObject({ price: 2000, currency: "USD" });
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { doc, requirement } = x402Offer(res);
    expect(doc.resource.url).toBe(`${GATEWAY}/s/${svc.slug}/echo/a?x=1`);
    expect(doc.error).toBe("payment_required");
    expect(requirement).toMatchObject({
      scheme: "tollgate-prepaid",
      network: "tollgate:prepaid",
      asset: "USD",
      amount: "2000",
      payTo: svc.id,
      maxTimeoutSeconds: 300,
    });
    expect(requirement.extra.offer).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const { params, request } = mppChallenge(res);
    expect(params).toMatchObject({ method: "tollgate", intent: "charge", realm: "127.0.0.1" });
    expect(Date.parse(params.expires ?? "") - Date.now()).toBeGreaterThan(290_000);
    expect(request).toEqual({ amount: "2000", currency: "USD", recipient: svc.id, offer: requirement.extra.offer });
  });

  it("an x402 retry paying the offer with an agent key is charged like a keyed call, with PAYMENT-RESPONSE", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(10_000);
    const { requirement } = x402Offer(await call(`/s/${svc.slug}/echo`));
    const res = await call(`/s/${svc.slug}/echo`, { headers: x402Payment(requirement, p.agentKey) });
    expect(res.status).toBe(200);
    const seen = await res.json<any>();
    // The payment is the gateway's business: the origin sees neither it nor the key.
    expect(seen.headers).not.toHaveProperty("payment-signature");
    expect(JSON.stringify(seen)).not.toContain(p.agentKey);
    expect(res.headers.get("tollgate-charge")).toBe("2000");
    const requestId = res.headers.get("tollgate-request-id");
    const receipt = decodeHeader(res.headers.get("payment-response"));
    expect(receipt).toEqual({ success: true, transaction: requestId, network: "tollgate:prepaid", payer: p.accountId, amount: "2000" });
    expect(await settledBalance(p.accountId)).toEqual({ currency: "USD", posted: 8000, pending: 0, available: 8000 });
    const [capture] = await transfers(p.accountId);
    expect(capture).toMatchObject({ kind: "capture", amount: 2000, request_id: requestId, service_id: svc.id, agent_key_id: p.agentKeyId });
  });

  it("an MPP retry (Authorization: Payment) is charged the same, with Payment-Receipt", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1500 }] });
    const p = await payer(10_000);
    const { params } = mppChallenge(await call(`/s/${svc.slug}/echo`, { method: "POST", body: { q: 1 } }));
    const res = await call(`/s/${svc.slug}/echo`, { method: "POST", body: { q: 1 }, headers: mppPayment(params, p.agentKey) });
    expect(res.status).toBe(200);
    expect((await res.json<any>()).headers).not.toHaveProperty("authorization");
    const receipt = fromB64urlJson(res.headers.get("payment-receipt") ?? "") as any;
    expect(receipt).toMatchObject({ method: "tollgate", reference: res.headers.get("tollgate-request-id"), status: "success" });
    expect(Number.isNaN(Date.parse(receipt.timestamp))).toBe(false);
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 8500, available: 8500 });
  });

  it("a metered call is offered its hold and charged what it used, never more than the offer", async () => {
    const svc = await createService(prov.key, { prices: [{ meter: "bytes", rate: { amount: 1, per: 1 }, hold: 50_000 }] });
    const p = await payer(100_000);
    const { requirement } = x402Offer(await call(`/s/${svc.slug}/echo`));
    expect(requirement.amount).toBe("50000");
    const res = await call(`/s/${svc.slug}/echo`, { headers: x402Payment(requirement, p.agentKey) });
    expect(res.status).toBe(200);
    const size = (await res.arrayBuffer()).byteLength;
    const after = await settledBalance(p.accountId);
    expect(after.posted).toBe(100_000 - size);
    expect(size).toBeLessThan(50_000);
  });

  it("a keyed call short of funds carries the same offer beside insufficient_funds", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 2000 }] });
    const p = await payer(500);
    const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    const problem = await expectProblem(res, 402, "insufficient_funds");
    expect(problem).toMatchObject({ price: 2000, available: 500 });
    const { requirement } = x402Offer(res);
    expect(requirement).toMatchObject({ amount: "2000", payTo: svc.id });
    expect(mppChallenge(res).request.amount).toBe("2000");
    expect(await balance(p.accountId)).toMatchObject({ posted: 500, available: 500 });
  });

  it("an MCP service keeps 401 without a credential (MCP clients authenticate in their own flow)", async () => {
    const svc = await createService(prov.key, { protocol: "mcp", prices: [{ match: { mcp_tool: "*" }, per_call: 10 }] });
    const res = await call(`/s/${svc.slug}/mcp`, { method: "POST", body: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "x" } } });
    await expectProblem(res, 401, "unauthorized");
    expect(res.headers.get("payment-required")).toBeNull();
  });
});
