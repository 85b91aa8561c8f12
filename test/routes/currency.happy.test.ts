/** A service's prices are in its currency: shown on the service and its pricing, charged to accounts in it. */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, balance, call, createProvider, createService, payer, transfers } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

describe("a service's currency", () => {
  it("defaults to USD", async () => {
    const svc = await createService(prov.key);
    expect(svc.currency).toBe("USD");
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.currency).toBe("USD");
  });

  it("is set on create and shown on the service, in the list and on the public pricing", async () => {
    const svc = await createService(prov.key, { currency: "JPY", prices: [{ per_call: 5 }] });
    expect(svc.currency).toBe("JPY");
    const listed = await api("/v1/services?limit=100", { key: prov.key });
    expect(listed.body.data.find((s: any) => s.id === svc.id).currency).toBe("JPY");
    const pricing = await api(`/v1/services/${svc.id}/pricing`);
    expect(pricing.status).toBe(200);
    expect(pricing.body).toMatchObject({ id: svc.id, currency: "JPY", prices: [{ per_call: 5 }] });
    expect(pricing.body.currency_note).toContain("JPY");
  });

  it("a JPY account calls a JPY service: charged in JPY", async () => {
    const svc = await createService(prov.key, { currency: "JPY", prices: [{ per_call: 30 }] });
    const p = await payer(100, "JPY");
    const res = await call(`/s/${svc.slug}/echo/yen`, { key: p.agentKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("tollgate-charge")).toBe("30");
    await res.body?.cancel();
    expect(await balance(p.accountId)).toEqual({ currency: "JPY", posted: 70, pending: 0, available: 70 });
    const [capture] = await transfers(p.accountId);
    expect(capture).toMatchObject({ kind: "capture", amount: 30, currency: "JPY", service_id: svc.id });
  });

  it("a PATCH may send the currency back unchanged (a whole service sent back)", async () => {
    const svc = await createService(prov.key, { currency: "EUR" });
    const r = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: OPERATOR, body: { currency: "EUR", name: "Same money" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ currency: "EUR", name: "Same money" });
  });
});
