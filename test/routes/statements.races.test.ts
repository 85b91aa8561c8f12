import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, createProvider, payer, type Payer, type Provider } from "./helpers";
import { DB, exportNow, paidCall, serviceWithFee } from "./ledger-helpers";
import { legSum, monthOf } from "./statement-fixtures";

// Statements and invoices read while calls are charged, refunded and exported all at once: every
// document given adds up (each is one D1 batch, and each export writes a transfer with its legs
// in one batch), and once everything is exported the figures are exactly the calls made.

const CALLS = 20;
const PRICE = 1_000;
let prov: Provider;
let svc: { id: string; slug: string };
let p: Payer;
beforeAll(async () => {
  prov = await createProvider();
  svc = await serviceWithFee(prov.id, PRICE, 1_000);
  p = await payer(1_000_000);
});

type Figures = {
  opening_balance: number;
  services: { net: number; calls: number }[];
  refunds: number;
  disputes: number;
  tips: number;
  payouts: number;
  closing_balance: number;
};

const addsUp = (f: Figures) =>
  f.opening_balance + f.services.reduce((s, x) => s + x.net, 0) + f.refunds + f.disputes + f.tips + f.payouts === f.closing_balance;

async function readBoth(month: string) {
  const [s, i] = await Promise.all([
    api(`/v1/providers/${prov.id}/statements/${month}`, { key: prov.key }),
    api(`/v1/accounts/${p.accountId}/invoices/${month}`, { key: p.ownerKey }),
  ]);
  expect(s.status, JSON.stringify(s.body)).toBe(200);
  expect(i.status, JSON.stringify(i.body)).toBe(200);
  return { statement: s.body, invoice: i.body };
}

describe("monthly documents under concurrent charges, refunds and exports", () => {
  it(`${CALLS} concurrent paid calls, exports and reads: every document adds up; the last one counts every call`, async () => {
    const month = monthOf(Date.now());
    const reads: ReturnType<typeof readBoth>[] = [];
    const exports: Promise<void>[] = [];
    await Promise.all(
      Array.from({ length: CALLS }, async (_, i) => {
        await paidCall(svc.slug, p.agentKey);
        if (i % 4 === 0) exports.push(exportNow(p.accountId));
        reads.push(readBoth(month));
      }),
    );
    await Promise.all(exports);
    for (const { statement, invoice } of await Promise.all(reads)) {
      for (const c of statement.currencies) expect(addsUp(c), JSON.stringify(c)).toBe(true);
      expect(invoice.totals.total).toBe(invoice.totals.charges - invoice.totals.credits);
      expect(invoice.lines.reduce((s: number, l: { amount: number }) => s + l.amount, 0)).toBe(invoice.totals.charges);
    }
    await exportNow(p.accountId);
    const { statement, invoice } = await readBoth(month);
    expect(statement.currencies[0].services).toMatchObject([{ service_id: svc.id, calls: CALLS, gross: CALLS * PRICE, fees: CALLS * 100, net: CALLS * 900 }]);
    expect(invoice.lines).toMatchObject([{ service_id: svc.id, calls: CALLS, amount: CALLS * PRICE }]);
  });

  it("concurrent refunds of every charge while reading: refunds land once each, and the documents agree with the legs", async () => {
    const month = monthOf(Date.now());
    const { results } = await DB.prepare("SELECT id FROM transfers WHERE account_id = ? AND kind = 'capture'").bind(p.accountId).all<{ id: string }>();
    expect(results.length).toBe(CALLS);
    const reads: ReturnType<typeof readBoth>[] = [];
    const refunds = await Promise.all(
      results.flatMap((c) => [
        // Two refunds of 600 race for each charge of 1000: only one fits.
        api("/v1/refunds", { key: prov.key, body: { transfer_id: c.id, amount: 600 } }),
        api("/v1/refunds", { key: OPERATOR, body: { transfer_id: c.id, amount: 600 } }).finally(() => reads.push(readBoth(month))),
      ]),
    );
    expect(refunds.filter((r) => r.status === 201).length).toBe(CALLS);
    expect(refunds.filter((r) => r.status === 422).length).toBe(CALLS);
    await exportNow(p.accountId);
    for (const { statement } of await Promise.all(reads)) for (const c of statement.currencies) expect(addsUp(c)).toBe(true);
    const { statement, invoice } = await readBoth(month);
    const usd = statement.currencies[0];
    // Each refund of 600 returns 60 of its charge's fee: the provider gives back 540.
    expect(usd.refunds).toBe(-CALLS * 540);
    expect(usd.closing_balance).toBe(await legSum(prov.id, "USD", 0, Number.MAX_SAFE_INTEGER));
    expect(invoice.credits).toEqual([{ kind: "refund", service_id: svc.id, name: "Fee service", count: CALLS, amount: CALLS * 600 }]);
    expect(invoice.totals).toEqual({ charges: CALLS * PRICE, credits: CALLS * 600, total: CALLS * 400 });
  });
});
