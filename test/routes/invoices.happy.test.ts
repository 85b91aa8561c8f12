import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, createService, payer, type Payer } from "./helpers";
import { DB, exportNow, paidCall, parseCsv, serviceWithFee } from "./ledger-helpers";
import { insertTransfer, monthOf, monthStart } from "./statement-fixtures";

// An account's monthly invoice (GET /v1/accounts/{id}/invoices/{month}): real tagged charges and a
// refund through the gateway this month, and fixtures (statement-fixtures.ts says why) for a won
// dispute's compensation, refund and repayment, and charges at the edges of past months. The
// totals are checked against the account's own legs in ledger_entries.

const EVIL = `<script>alert("x")</script> & 'Co'`;
let p: Payer;
let svcA: { id: string; slug: string };
let svcB: { id: string; slug: string };
let month: string;

async function invoice(m: string, key = OPERATOR): Promise<any> {
  const r = await api(`/v1/accounts/${p.accountId}/invoices/${m}`, { key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** The account's own legs in the month on non-top-up transfers: debits (as a positive sum), credits, and top-ups. */
async function payerLegs(m: string): Promise<{ debits: number; credits: number; payments: number }> {
  const from = Date.parse(`${m}-01T00:00:00Z`);
  const to = new Date(from).setUTCMonth(new Date(from).getUTCMonth() + 1);
  const row = await DB.prepare(
    `SELECT COALESCE(SUM(CASE WHEN t.kind <> 'credit' AND e.amount < 0 THEN -e.amount END), 0) AS debits,
            COALESCE(SUM(CASE WHEN t.kind <> 'credit' AND e.amount > 0 THEN e.amount END), 0) AS credits,
            COALESCE(SUM(CASE WHEN t.kind = 'credit' THEN e.amount END), 0) AS payments
       FROM ledger_entries e JOIN transfers t ON t.account_id = e.account_id AND t.seq = e.seq
      WHERE e.ledger_account = ?1 AND e.created_at >= ?2 AND e.created_at < ?3`,
  )
    .bind(p.accountId, from, to)
    .first<{ debits: number; credits: number; payments: number }>();
  return { debits: Number(row?.debits), credits: Number(row?.credits), payments: Number(row?.payments) };
}

async function expectMatchesLegs(m: string, inv: any): Promise<void> {
  const legs = await payerLegs(m);
  const sum = (xs: { amount: number }[]) => xs.reduce((s, x) => s + x.amount, 0);
  expect(inv.totals).toEqual({ charges: legs.debits, credits: legs.credits, total: legs.debits - legs.credits });
  expect(sum(inv.lines) + sum(inv.debits)).toBe(inv.totals.charges);
  expect(sum(inv.credits)).toBe(inv.totals.credits);
  expect(inv.payments.amount).toBe(legs.payments);
}

beforeAll(async () => {
  const prov = await createProvider();
  svcA = await serviceWithFee(prov.id, 1_000, 1_000);
  svcB = await createService(prov.key, { name: EVIL, prices: [{ per_call: 2_000 }] });
  p = await payer(1_000_000);
  await paidCall(svcA.slug, p.agentKey, "team=docs,project=alpha");
  await paidCall(svcA.slug, p.agentKey, "team=docs");
  await paidCall(svcA.slug, p.agentKey);
  await paidCall(svcB.slug, p.agentKey, "team=ml");
  await exportNow(p.accountId);
  const charges = await DB.prepare("SELECT id, service_id FROM transfers WHERE account_id = ? AND kind = 'capture' ORDER BY seq")
    .bind(p.accountId)
    .all<{ id: string; service_id: string }>();
  const refund = await api("/v1/refunds", { key: prov.key, body: { transfer_id: charges.results[0]?.id, amount: 300 } });
  expect(refund.status, JSON.stringify(refund.body)).toBe(201);
  await exportNow(p.accountId);
  month = monthOf(Date.now());

  // A dispute of the svcB charge as unauthorized, won by the payer: compensated at once, then the
  // provider's earnings refund the charge and the payer's side repays the compensation.
  const svcBCharge = charges.results.find((c) => c.service_id === svcB.id)?.id;
  const dispute = { serviceId: svcB.id, providerId: prov.id, disputeId: "dp_invoicefixture000001", at: Date.now() };
  await insertTransfer(p.accountId, { ...dispute, kind: "compensation", amount: 2_000 });
  await insertTransfer(p.accountId, { ...dispute, kind: "refund", amount: 2_000, fee: 0, refundOf: svcBCharge });
  await insertTransfer(p.accountId, { ...dispute, kind: "repayment", amount: 2_000 });

  // Past months: a charge at the last millisecond of May 2020 and one at the first of June.
  const old = { serviceId: svcA.id, providerId: prov.id, tags: { team: "ops" } };
  await insertTransfer(p.accountId, { ...old, kind: "capture", amount: 1_000, fee: 100, at: monthStart(2020, 6) - 1 });
  await insertTransfer(p.accountId, { ...old, kind: "capture", amount: 4_000, fee: 400, at: monthStart(2020, 6) });
});

describe("GET /v1/accounts/{id}/invoices/{month}", () => {
  it("this month: service lines with tag subtotals, credits, debits and totals equal to the account's legs", async () => {
    const inv = await invoice(month);
    expect(inv).toMatchObject({ account_id: p.accountId, currency: "USD", month, final: false, payments: { count: 1, amount: 1_000_000 } });
    expect(inv.lines).toEqual(
      [
        {
          service_id: svcA.id,
          name: "Fee service",
          calls: 3,
          passes: 0,
          amount: 3_000,
          tags: [
            { name: "project", value: "alpha", calls: 1, amount: 1_000 },
            { name: "team", value: "docs", calls: 2, amount: 2_000 },
          ],
        },
        { service_id: svcB.id, name: EVIL, calls: 1, passes: 0, amount: 2_000, tags: [{ name: "team", value: "ml", calls: 1, amount: 2_000 }] },
      ].sort((a, b) => a.service_id.localeCompare(b.service_id)),
    );
    expect(inv.credits).toEqual([
      { kind: "compensation", service_id: svcB.id, name: EVIL, count: 1, amount: 2_000 },
      { kind: "dispute_refund", service_id: svcB.id, name: EVIL, count: 1, amount: 2_000 },
      { kind: "refund", service_id: svcA.id, name: "Fee service", count: 1, amount: 300 },
    ]);
    expect(inv.debits).toEqual([{ kind: "repayment", service_id: svcB.id, name: EVIL, count: 1, amount: 2_000 }]);
    expect(inv.totals).toEqual({ charges: 7_000, credits: 4_300, total: 2_700 });
    await expectMatchesLegs(month, inv);
  });

  it("the invoice number is stable across requests and unique per account and month", async () => {
    const [a, b, owners] = await Promise.all([invoice(month), invoice(month), invoice(month, p.ownerKey)]);
    expect(a).toEqual(b);
    expect(owners).toEqual(a);
    expect(a.invoice_number).toBe(`TG-${month.replace("-", "")}-${p.accountId.slice("acct_".length).toUpperCase()}`);
    expect((await invoice("2020-05")).invoice_number).not.toBe(a.invoice_number);
    const other = await payer(0);
    const theirs = await api(`/v1/accounts/${other.accountId}/invoices/${month}`, { key: other.ownerKey });
    expect(theirs.body.invoice_number).not.toBe(a.invoice_number);
  });

  it("month boundaries: the last millisecond of May is May's, the first of June is June's", async () => {
    const may = await invoice("2020-05");
    expect(may.lines).toEqual([
      { service_id: svcA.id, name: "Fee service", calls: 1, passes: 0, amount: 1_000, tags: [{ name: "team", value: "ops", calls: 1, amount: 1_000 }] },
    ]);
    expect(may).toMatchObject({
      credits: [],
      debits: [],
      payments: { count: 0, amount: 0 },
      totals: { charges: 1_000, credits: 0, total: 1_000 },
      final: true,
    });
    const june = await invoice("2020-06");
    expect(june.lines).toMatchObject([{ calls: 1, amount: 4_000 }]);
    expect(june.totals).toEqual({ charges: 4_000, credits: 0, total: 4_000 });
    await expectMatchesLegs("2020-05", may);
    await expectMatchesLegs("2020-06", june);
  });

  it("a month with no activity: no lines, zero totals", async () => {
    const july = await invoice("2020-07");
    expect(july).toMatchObject({ lines: [], credits: [], debits: [], payments: { count: 0, amount: 0 }, totals: { charges: 0, credits: 0, total: 0 } });
  });

  it("CSV parses back to the same lines and totals", async () => {
    const inv = await invoice(month);
    const res = await call(`/v1/accounts/${p.accountId}/invoices/${month}?format=csv`, { key: p.ownerKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const [header, ...rows] = parseCsv(await res.text());
    expect(header).toEqual([
      "invoice_number",
      "account_id",
      "month",
      "currency",
      "line",
      "kind",
      "service_id",
      "service_name",
      "tag",
      "calls",
      "passes",
      "amount",
    ]);
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set([inv.invoice_number]));
    const of = (line: string) => rows.filter((r) => r[4] === line);
    const amountOf = (line: string) => Number(of(line)[0]?.[11]);
    expect(of("charge").map((r) => ({ service_id: r[6], name: r[7], calls: Number(r[9]), passes: Number(r[10]), amount: Number(r[11]) }))).toEqual(
      inv.lines.map((l: any) => ({ service_id: l.service_id, name: l.name, calls: l.calls, passes: l.passes, amount: l.amount })),
    );
    expect(of("tag").map((r) => r[8])).toEqual(inv.lines.flatMap((l: any) => l.tags.map((t: any) => `${t.name}=${t.value}`)));
    expect(of("credit").map((r) => [r[5], r[6], Number(r[9]), Number(r[11])])).toEqual(inv.credits.map((c: any) => [c.kind, c.service_id, c.count, c.amount]));
    expect(of("debit").map((r) => [r[5], Number(r[11])])).toEqual(inv.debits.map((d: any) => [d.kind, d.amount]));
    expect({ charges: amountOf("charges"), credits: amountOf("credits"), total: amountOf("total") }).toEqual(inv.totals);
    const sum = (line: string) => of(line).reduce((s, r) => s + Number(r[11]), 0);
    expect(sum("charge") + sum("debit")).toBe(inv.totals.charges);
    expect(sum("credit")).toBe(inv.totals.credits);
    expect(amountOf("payment")).toBe(inv.payments.amount);
  });

  it("HTML: a printable page with the invoice number, every value escaped", async () => {
    const inv = await invoice(month);
    const res = await call(`/v1/accounts/${p.accountId}/invoices/${month}?format=html`, { key: p.ownerKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`<title>Invoice ${inv.invoice_number}</title>`);
    expect(html).toContain("@media print");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;");
    expect(html).not.toContain("<script");
    expect(html).not.toMatch(/<link|src=|url\(/); // self-contained: nothing fetched
    expect(html).toContain("USD 0.007000"); // charges, in units of the currency
    expect(html).toContain("USD 0.002700"); // total
  });
});
