import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, createProvider, createService, payer } from "./helpers";
import { newId } from "../../core/ids";
import { DB, exportNow, paidCall, serviceWithFee } from "./ledger-helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const usage = (path: string, key: string) => api(path, { key });

describe("GET /v1/accounts/{id}/usage", () => {
  it("groups an account's charges by service, by tag and by day, with totals", async () => {
    const svcA = await createService(prov.key, { prices: [{ per_call: 300 }] });
    const svcB = await serviceWithFee(prov.id, 1000, 1000); // 10% platform fee
    const p = await payer(100_000);
    await paidCall(svcA.slug, p.agentKey, "team=growth");
    await paidCall(svcA.slug, p.agentKey, "team=ops,env=prod");
    await paidCall(svcB.slug, p.agentKey, "team=growth");
    await paidCall(svcB.slug, p.agentKey);
    await exportNow(p.accountId);

    const bySvc = await usage(`/v1/accounts/${p.accountId}/usage`, p.ownerKey);
    expect(bySvc.status, JSON.stringify(bySvc.body)).toBe(200);
    expect(bySvc.body).toMatchObject({ currency: "USD", group_by: "service", total: { calls: 4, amount: 2600, fee: 200 } });
    expect(bySvc.body.groups).toEqual(
      [
        { key: svcA.id, currency: "USD", calls: 2, amount: 600, fee: 0 },
        { key: svcB.id, currency: "USD", calls: 2, amount: 2000, fee: 200 },
      ].sort((a, b) => a.key.localeCompare(b.key)),
    );

    const byTag = await usage(`/v1/accounts/${p.accountId}/usage?group_by=tag:team`, p.ownerKey);
    expect(byTag.status).toBe(200);
    expect(byTag.body.groups).toEqual([
      { key: "growth", currency: "USD", calls: 2, amount: 1300, fee: 100 },
      { key: "ops", currency: "USD", calls: 1, amount: 300, fee: 0 },
      { key: null, currency: "USD", calls: 1, amount: 1000, fee: 100 },
    ]);

    const byDay = await usage(`/v1/accounts/${p.accountId}/usage?group_by=day`, OPERATOR);
    expect(byDay.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(byDay.body.groups).toEqual([{ key: today, currency: "USD", calls: 4, amount: 2600, fee: 200 }]);
  });

  it("counts only captures inside [from, to): credits never, to exclusive", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 70 }] });
    const p = await payer(10_000);
    await paidCall(svc.slug, p.agentKey);
    await exportNow(p.accountId);
    const { body: transfers } = await api(`/v1/accounts/${p.accountId}/transfers`, { key: OPERATOR });
    const capturedAt = transfers.data.find((t: any) => t.kind === "capture").created_at as string;

    const including = await usage(`/v1/accounts/${p.accountId}/usage?from=${encodeURIComponent(capturedAt)}`, p.ownerKey);
    expect(including.body.total).toEqual({ calls: 1, amount: 70, fee: 0 });
    const excluding = await usage(`/v1/accounts/${p.accountId}/usage?to=${encodeURIComponent(capturedAt)}`, p.ownerKey);
    expect(excluding.body).toMatchObject({ currency: "USD", groups: [], total: { calls: 0, amount: 0, fee: 0 } });
  });

  it("defaults to the last 30 days and says which period it covered", async () => {
    const p = await payer(0);
    const r = await usage(`/v1/accounts/${p.accountId}/usage`, p.ownerKey);
    expect(r.status).toBe(200);
    const span = Date.parse(r.body.to) - Date.parse(r.body.from);
    expect(span).toBe(30 * 86_400_000);
    expect(Math.abs(Date.parse(r.body.to) - Date.now())).toBeLessThan(60_000);
  });

  it("accepts plain dates (UTC midnight)", async () => {
    const p = await payer(0);
    const r = await usage(`/v1/accounts/${p.accountId}/usage?from=2026-01-01&to=2026-02-01`, p.ownerKey);
    expect(r.body).toMatchObject({ from: "2026-01-01T00:00:00.000Z", to: "2026-02-01T00:00:00.000Z" });
  });
});

describe("GET /v1/services/{id}/usage", () => {
  it("sums a service's charges over all its payers, per currency when they differ", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 40 }] });
    const usd = await payer(1000, "USD");
    await paidCall(svc.slug, usd.agentKey, "team=a");
    await paidCall(svc.slug, usd.agentKey, "team=b");
    await exportNow(usd.accountId);
    // A call from an EUR account is refused now (a service prices in one currency), but charges
    // settled before services had a currency may mix them: one such charge, as D1 holds it.
    await DB.prepare(
      "INSERT INTO transfers (account_id, seq, id, kind, amount, currency, service_id, provider_id, tags, fee, created_at) VALUES (?, 2, ?, 'capture', 40, 'EUR', ?, ?, ?, 0, ?)",
    )
      .bind(newId("acct"), newId("tr"), svc.id, prov.id, JSON.stringify({ team: "a" }), Date.now())
      .run();

    const r = await usage(`/v1/services/${svc.id}/usage?group_by=tag:team`, prov.key);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.currency).toBeUndefined();
    expect(r.body.total).toBeNull();
    expect(r.body.groups).toEqual([
      { key: "a", currency: "EUR", calls: 1, amount: 40, fee: 0 },
      { key: "a", currency: "USD", calls: 1, amount: 40, fee: 0 },
      { key: "b", currency: "USD", calls: 1, amount: 40, fee: 0 },
    ]);
    expect(r.body.totals).toEqual([
      { currency: "EUR", calls: 1, amount: 40, fee: 0 },
      { currency: "USD", calls: 2, amount: 80, fee: 0 },
    ]);

    const byService = await usage(`/v1/services/${svc.id}/usage`, OPERATOR);
    expect(byService.body.groups.map((g: any) => [g.key, g.currency, g.calls])).toEqual([
      [svc.id, "EUR", 1],
      [svc.id, "USD", 2],
    ]);
  });

  it("one currency: named at the top with one total", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 5 }] });
    const p = await payer(100);
    await paidCall(svc.slug, p.agentKey);
    await exportNow(p.accountId);
    const r = await usage(`/v1/services/${svc.id}/usage?group_by=day`, prov.key);
    expect(r.body).toMatchObject({ currency: "USD", total: { calls: 1, amount: 5, fee: 0 } });
  });
});

describe("/openapi.json documents the finance endpoints", () => {
  it.each([
    ["get", "/v1/accounts/{id}/usage"],
    ["get", "/v1/services/{id}/usage"],
    ["get", "/v1/ledger/entries"],
    ["get", "/v1/reconciliation"],
    ["post", "/v1/reconciliation/repairs"],
    ["get", "/v1/accounts/{id}/audit"],
    ["get", "/v1/accounts/{id}/audit/verify"],
  ])("%s %s, with bearer security and a 200", async (method, path) => {
    const { body: doc } = await api("/openapi.json");
    const op = doc.paths[path]?.[method];
    expect(op, path).toBeDefined();
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(op.responses["200"]).toBeDefined();
    if (path === "/v1/ledger/entries") expect(Object.keys(op.responses["200"].content)).toEqual(["application/json", "text/csv"]);
  });
});
