/**
 * Tips and pass sales in the monthly documents. Tips are real (POST /v1/tips, exported by the
 * payer's ledger); pass purchases and renewals are D1 fixtures in the shape the export writes
 * (statement-fixtures.ts: a capture with no hold, `reason` pass_purchase or pass_renewal,
 * `reference` the pass). The provider's statement puts tips in `tips` and counts calls and
 * passes apart in each service line; the payer's invoice shows tips as debit lines and passes
 * per service line; both still add up to the ledger's legs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api } from "./helpers";
import { exportNow, paidCall, parseCsv } from "./ledger-helpers";
import { insertTransfer, legSum, monthOf, monthStart } from "./statement-fixtures";
import { tip, type TipWorld, tipWorld } from "./tip-helpers";

const PER_CALL = 1_000;
// A past month the fixtures fill on their own: the figures are exact there.
const MARCH_2021 = monthStart(2021, 3);

let w: TipWorld;
let month: string;

beforeAll(async () => {
  w = await tipWorld(1_000_000);
  // This month: two paid calls, two tips (one with the platform's fee).
  await paidCall(w.svc.slug, w.p.agentKey);
  await paidCall(w.svc.slug, w.p.agentKey);
  for (const [amount, vars] of [
    [700, {}],
    [1_000, { TIP_FEE_BPS: "1000" }],
  ] as const) {
    const r = await tip(w.p.agentKey, { service_id: w.svc.id, amount, message: "thanks" }, {}, vars);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  await exportNow(w.p.accountId);
  month = monthOf(Date.now());
  // This month too: a pass bought and renewed (fixtures), 5000 each with a 10% fee.
  const pass = { serviceId: w.svc.id, providerId: w.prov.id, fee: 500, at: Date.now() };
  await insertTransfer(w.p.accountId, { ...pass, kind: "capture", amount: 5_000, pass: { reason: "pass_purchase", passId: "pass_fixture00000000001" } });
  await insertTransfer(w.p.accountId, { ...pass, kind: "capture", amount: 5_000, pass: { reason: "pass_renewal", passId: "pass_fixture00000000001" } });
  // March 2021: one call, one pass purchase, one tip.
  const old = { serviceId: w.svc.id, providerId: w.prov.id, at: MARCH_2021 + 1_000 };
  await insertTransfer(w.p.accountId, { ...old, kind: "capture", amount: 2_000, fee: 200 });
  await insertTransfer(w.p.accountId, {
    ...old,
    kind: "capture",
    amount: 8_000,
    fee: 800,
    pass: { reason: "pass_purchase", passId: "pass_fixture00000000002" },
  });
  await insertTransfer(w.p.accountId, { ...old, kind: "tip", amount: 300, reason: "old thanks" });
});

async function statement(m: string) {
  const r = await api(`/v1/providers/${w.prov.id}/statements/${m}`, { key: OPERATOR });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.currencies).toHaveLength(1);
  return r.body.currencies[0];
}

async function invoice(m: string) {
  const r = await api(`/v1/accounts/${w.p.accountId}/invoices/${m}`, { key: OPERATOR });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

function addsUp(f: any) {
  const net = f.services.reduce((s: number, x: any) => s + x.net, 0);
  expect(f.opening_balance + net + f.refunds + f.disputes + f.tips + f.payouts).toBe(f.closing_balance);
}

describe("the provider's statement", () => {
  it("this month: tips in `tips` (less the fee), calls and passes_sold apart, gross/fees/net of both; it adds up to the legs", async () => {
    const f = await statement(month);
    expect(f.services).toEqual([
      {
        service_id: w.svc.id,
        name: expect.any(String),
        calls: 2,
        passes_sold: 2,
        units: 0,
        gross: 2 * PER_CALL + 10_000,
        fees: 1_000,
        net: 2 * PER_CALL + 9_000,
      },
    ]);
    expect(f.tips).toBe(700 + 900);
    addsUp(f);
    const from = monthStart(Number(month.slice(0, 4)), Number(month.slice(5, 7)));
    const to = new Date(from).setUTCMonth(new Date(from).getUTCMonth() + 1);
    expect(f.tips).toBe(await legSum(w.prov.id, "USD", from, to, "t.kind = 'tip'"));
    expect(f.closing_balance).toBe(await legSum(w.prov.id, "USD", 0, to));
  });

  it("a past month: one call, one pass sold, one tip", async () => {
    const f = await statement("2021-03");
    expect(f).toMatchObject({
      opening_balance: 0,
      services: [{ service_id: w.svc.id, calls: 1, passes_sold: 1, gross: 10_000, fees: 1_000, net: 9_000 }],
      tips: 300,
      closing_balance: 9_300,
    });
    addsUp(f);
  });

  it("CSV: the service record carries passes_sold, the tips record the tips", async () => {
    const r = await api(`/v1/providers/${w.prov.id}/statements/2021-03?format=csv`, { key: OPERATOR });
    expect(r.status).toBe(200);
    const [header, ...rows] = parseCsv(String(r.body));
    const col = (name: string) => (header ?? []).indexOf(name);
    const service = rows.find((x) => x[col("line")] === "service");
    expect(service?.[col("calls")]).toBe("1");
    expect(service?.[col("passes_sold")]).toBe("1");
    expect(rows.find((x) => x[col("line")] === "tips")?.[col("amount")]).toBe("300");
  });
});

describe("the payer's invoice", () => {
  it("this month: tips are debit lines of kind tip; the service line counts calls and passes apart; totals equal the legs", async () => {
    const inv = await invoice(month);
    expect(inv.lines).toEqual([{ service_id: w.svc.id, name: expect.any(String), calls: 2, passes: 2, amount: 2 * PER_CALL + 10_000, tags: [] }]);
    expect(inv.debits).toEqual([{ kind: "tip", service_id: w.svc.id, name: expect.any(String), count: 2, amount: 1_700 }]);
    expect(inv.totals).toEqual({ charges: 2 * PER_CALL + 10_000 + 1_700, credits: 0, total: 2 * PER_CALL + 10_000 + 1_700 });
  });

  it("CSV and HTML show the tip line and the passes", async () => {
    const csv = await api(`/v1/accounts/${w.p.accountId}/invoices/2021-03?format=csv`, { key: OPERATOR });
    expect(csv.status).toBe(200);
    const [header, ...rows] = parseCsv(String(csv.body));
    const col = (name: string) => (header ?? []).indexOf(name);
    expect(rows.find((x) => x[col("line")] === "charge")).toMatchObject({ [col("calls")]: "1", [col("passes")]: "1", [col("amount")]: "10000" });
    expect(rows.find((x) => x[col("line")] === "debit")).toMatchObject({ [col("kind")]: "tip", [col("calls")]: "1", [col("amount")]: "300" });
    expect(rows.find((x) => x[col("line")] === "charges")?.[col("amount")]).toBe("10300");
    const html = await api(`/v1/accounts/${w.p.accountId}/invoices/2021-03?format=html`, { key: OPERATOR });
    expect(html.status).toBe(200);
    expect(String(html.body)).toContain("Tip: ");
    expect(String(html.body)).toContain("and 1 pass bought or renewed");
  });
});
