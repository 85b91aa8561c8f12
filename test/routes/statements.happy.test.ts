import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, createService, originUrl, payer, type Payer, type Provider } from "./helpers";
import { DB, exportNow, paidCall, parseCsv, serviceWithFee } from "./ledger-helpers";
import { insertPayout, insertTransfer, legSum, monthOf, monthStart } from "./statement-fixtures";

// A provider's monthly statement (GET /v1/providers/{id}/statements/{month}): real captures and
// refunds through the gateway this month, and fixtures (statement-fixtures.ts says why) for a
// dispute's refund, a compensation and its repayment, payouts, and charges at the edges of past
// months. Every figure is checked against a direct sum over ledger_entries.

const DEFERRED_UNITS = { meter: "units", rate: { amount: 10, per: 1 }, hold: 777, deferred: true };
const LAST_MS_OF_MAY_2020 = monthStart(2020, 6) - 1;
const FIRST_MS_OF_JUNE_2020 = monthStart(2020, 6);

let prov: Provider;
let svcA: { id: string; slug: string };
let svcUnits: { id: string; slug: string };
let svcEur: { id: string; slug: string };
let usd: Payer;
let eur: Payer;
let month: string;

type Figures = {
  currency: string;
  opening_balance: number;
  services: { service_id: string; net: number; gross: number; fees: number; calls: number; passes_sold: number; units: number }[];
  refunds: number;
  disputes: number;
  tips: number;
  payouts: number;
  closing_balance: number;
};

async function statement(m: string, key = OPERATOR): Promise<{ currencies: Figures[] } & Record<string, unknown>> {
  const r = await api(`/v1/providers/${prov.id}/statements/${m}`, { key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const byCurrency = (s: { currencies: Figures[] }, c: string): Figures => {
  const f = s.currencies.find((x) => x.currency === c);
  if (!f) throw new Error(`no ${c} in ${JSON.stringify(s)}`);
  return f;
};

/** The identity, and every figure against the provider's legs in ledger_entries. */
async function expectMatchesLedger(m: string, f: Figures): Promise<void> {
  const from = Date.parse(`${m}-01T00:00:00Z`);
  const to = new Date(from).setUTCMonth(new Date(from).getUTCMonth() + 1);
  const net = f.services.reduce((s, x) => s + x.net, 0);
  expect(f.opening_balance + net + f.refunds + f.disputes + f.tips + f.payouts).toBe(f.closing_balance);
  const sum = (where?: string, ...params: unknown[]) => legSum(prov.id, f.currency, from, to, where, ...params);
  expect(f.opening_balance).toBe(await legSum(prov.id, f.currency, 0, from));
  expect(f.closing_balance).toBe(await legSum(prov.id, f.currency, 0, to));
  expect(net).toBe(await sum("t.kind = 'capture'"));
  for (const s of f.services) {
    expect(s.net).toBe(s.gross - s.fees);
    expect(s.net).toBe(await sum("t.kind = 'capture' AND t.service_id = ?", s.service_id));
  }
  expect(f.refunds).toBe(await sum("t.kind = 'refund' AND t.dispute_id IS NULL"));
  expect(f.disputes).toBe(await sum("t.kind = 'refund' AND t.dispute_id IS NOT NULL"));
  expect(f.payouts).toBe(await sum("t.seq IS NULL AND e.transfer_id LIKE 'po_%'"));
  expect(f.tips).toBe(0);
}

async function capturesOf(accountId: string, serviceId: string): Promise<{ id: string; amount: number; fee: number }[]> {
  const { results } = await DB.prepare("SELECT id, amount, fee FROM transfers WHERE account_id = ? AND service_id = ? AND kind = 'capture' ORDER BY seq")
    .bind(accountId, serviceId)
    .all<{ id: string; amount: number; fee: number }>();
  return results;
}

beforeAll(async () => {
  prov = await createProvider();
  svcA = await serviceWithFee(prov.id, 1_000, 1_000); // 10% fee
  svcUnits = await createService(prov.key, { name: "Units service", prices: [DEFERRED_UNITS] });
  const e = await api("/v1/services", {
    key: OPERATOR,
    body: {
      slug: `eur-${prov.id.slice(-8)}`,
      name: "Euro service",
      origin: originUrl(),
      prices: [{ per_call: 500 }],
      provider_id: prov.id,
      fee_bps: 500,
      currency: "EUR",
    },
  });
  expect(e.status, JSON.stringify(e.body)).toBe(201);
  svcEur = e.body;
  [usd, eur] = await Promise.all([payer(1_000_000), payer(1_000_000, "EUR")]);

  // This month, through the gateway: 3 charges of 1000 (a 400 refund of one), 2 deferred-units calls, 2 EUR charges.
  for (let i = 0; i < 3; i++) await paidCall(svcA.slug, usd.agentKey);
  for (const units of [3, 5]) {
    const res = await call(`/s/${svcUnits.slug}/echo/job`, { method: "POST", key: usd.agentKey, body: { units } });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const report = await call("/v1/usage", { key: prov.key, body: { request_id: res.headers.get("tollgate-request-id"), units } });
    expect(report.status, await report.clone().text()).toBe(201);
  }
  for (let i = 0; i < 2; i++) await paidCall(svcEur.slug, eur.agentKey);
  await Promise.all([exportNow(usd.accountId), exportNow(eur.accountId)]);
  const [first, second] = await capturesOf(usd.accountId, svcA.id);
  const refund = await api("/v1/refunds", { key: prov.key, body: { transfer_id: first?.id, amount: 400 } });
  expect(refund.status, JSON.stringify(refund.body)).toBe(201);
  await exportNow(usd.accountId);
  month = monthOf(Date.now());

  // This month, fixtures: a lost dispute's full refund of the second charge, a compensation and its repayment, a payout.
  const now = Date.now();
  const charge = { serviceId: svcA.id, providerId: prov.id, disputeId: "dp_statementfixture0001", at: now };
  await insertTransfer(usd.accountId, { ...charge, kind: "refund", amount: 1_000, fee: 100, refundOf: second?.id });
  await insertTransfer(usd.accountId, { ...charge, kind: "compensation", amount: 700 });
  await insertTransfer(usd.accountId, { ...charge, kind: "repayment", amount: 700 });
  await insertPayout(prov.id, 500, "USD", now);

  // Past months, fixtures: a charge at the last millisecond of May 2020, one at the first of June, a June payout.
  const old = { serviceId: svcA.id, providerId: prov.id, usage: { units: 2 } };
  await insertTransfer(usd.accountId, { ...old, kind: "capture", amount: 2_000, fee: 200, at: LAST_MS_OF_MAY_2020 });
  await insertTransfer(usd.accountId, { ...old, kind: "capture", amount: 3_000, fee: 300, at: FIRST_MS_OF_JUNE_2020 });
  await insertPayout(prov.id, 1_000, "USD", Date.UTC(2020, 5, 15));
});

describe("GET /v1/providers/{id}/statements/{month}", () => {
  it("this month: earnings per service and currency, refunds, disputes and payouts, to the micro-unit", async () => {
    const s = await statement(month);
    expect(s).toMatchObject({ provider_id: prov.id, month, from: `${month}-01T00:00:00.000Z`, final: false });
    expect(s.currencies.map((c) => c.currency)).toEqual(["EUR", "USD"]);
    const u = byCurrency(s, "USD");
    const a = u.services.find((x) => x.service_id === svcA.id);
    expect(a).toMatchObject({ name: "Fee service", calls: 3, units: 0, gross: 3_000, fees: 300, net: 2_700 });
    expect(u.services.find((x) => x.service_id === svcUnits.id)).toMatchObject({ name: "Units service", calls: 2, units: 8, gross: 80 });
    // The plain refund gives back 400 less its 40 of fee; the dispute's refund 1000 less 100; compensation and repayment are not the provider's.
    expect(u).toMatchObject({ opening_balance: 3_500, refunds: -360, disputes: -900, tips: 0, payouts: -500 });
    expect(byCurrency(s, "EUR")).toMatchObject({
      opening_balance: 0,
      services: [{ service_id: svcEur.id, calls: 2, gross: 1_000, fees: 50, net: 950 }],
      refunds: 0,
      payouts: 0,
      closing_balance: 950,
    });
    for (const c of s.currencies) await expectMatchesLedger(month, c);
  });

  it("month boundaries: the last millisecond of May is May's, the first of June is June's", async () => {
    const may = byCurrency(await statement("2020-05"), "USD");
    expect(may).toMatchObject({
      opening_balance: 0,
      services: [{ service_id: svcA.id, calls: 1, units: 2, gross: 2_000, fees: 200, net: 1_800 }],
      payouts: 0,
      closing_balance: 1_800,
    });
    const june = byCurrency(await statement("2020-06"), "USD");
    expect(june).toMatchObject({ opening_balance: 1_800, services: [{ calls: 1, gross: 3_000, net: 2_700 }], payouts: -1_000, closing_balance: 3_500 });
    await expectMatchesLedger("2020-05", may);
    await expectMatchesLedger("2020-06", june);
  });

  it("a month with no activity: opening = closing, no services; before any leg: no currencies", async () => {
    const july = await statement("2020-07");
    expect(july.currencies).toEqual([
      { currency: "USD", opening_balance: 3_500, services: [], refunds: 0, disputes: 0, tips: 0, payouts: 0, closing_balance: 3_500 },
    ]);
    expect((await statement("2020-04")).currencies).toEqual([]);
    expect((await statement("2020-07")).final).toBe(true);
  });

  it("the provider reads its own statement, the same document the operator gets, on every request", async () => {
    const [mine, operators] = await Promise.all([statement(month, prov.key), statement(month)]);
    expect(mine).toEqual(operators);
  });

  it("CSV: one record per figure, parsing back to the JSON figures, adding up per currency", async () => {
    const json = await statement(month);
    const res = await call(`/v1/providers/${prov.id}/statements/${month}?format=csv`, { key: prov.key });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="tollgate-statement-${prov.id}-${month}.csv"`);
    const [header, ...rows] = parseCsv(await res.text());
    expect(header).toEqual([
      "provider_id",
      "month",
      "currency",
      "line",
      "service_id",
      "service_name",
      "calls",
      "passes_sold",
      "units",
      "gross",
      "fees",
      "amount",
    ]);
    for (const c of json.currencies) {
      const mine = rows.filter((r) => r[2] === c.currency);
      const figure = (line: string) => Number(mine.find((r) => r[3] === line)?.[11]);
      const services = mine.filter((r) => r[3] === "service");
      expect(
        services.map((r) => ({
          service_id: r[4],
          calls: Number(r[6]),
          passes_sold: Number(r[7]),
          units: Number(r[8]),
          gross: Number(r[9]),
          fees: Number(r[10]),
          net: Number(r[11]),
        })),
      ).toEqual(c.services.map(({ service_id, calls, passes_sold, units, gross, fees, net }) => ({ service_id, calls, passes_sold, units, gross, fees, net })));
      const parsed = {
        opening_balance: figure("opening_balance"),
        refunds: figure("refunds"),
        disputes: figure("disputes"),
        tips: figure("tips"),
        payouts: figure("payouts"),
        closing_balance: figure("closing_balance"),
      };
      expect(parsed).toEqual({
        opening_balance: c.opening_balance,
        refunds: c.refunds,
        disputes: c.disputes,
        tips: c.tips,
        payouts: c.payouts,
        closing_balance: c.closing_balance,
      });
      const movements = mine.filter((r) => r[3] !== "closing_balance").reduce((s, r) => s + Number(r[11]), 0);
      expect(movements).toBe(parsed.closing_balance);
    }
  });
});
