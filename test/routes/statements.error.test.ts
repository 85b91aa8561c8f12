import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, call, createProvider, expectProblem, payer, type Payer, type Provider } from "./helpers";
import { DB } from "./ledger-helpers";
import { insertTransfer, monthStart } from "./statement-fixtures";

// Statements and invoices: bad months, unknown or someone else's provider or account, and
// documents that would not add up (a 500 naming the mismatch, never a wrong document).

let provA: Provider;
let provB: Provider;
let payerA: Payer;
let payerB: Payer;
beforeAll(async () => {
  [provA, provB] = await Promise.all([createProvider(), createProvider()]);
  [payerA, payerB] = await Promise.all([payer(0), payer(0)]);
});

const statementOf = (id: string, month: string, key = OPERATOR) => call(`/v1/providers/${id}/statements/${month}`, { key });
const invoiceOf = (id: string, month: string, key = OPERATOR, query = "") => call(`/v1/accounts/${id}/invoices/${month}${query}`, { key });

describe("monthly documents: refusals", () => {
  it.each(["2026-13", "2026-1", "abcd", "2026-00", "2026-03-01", "26-03", "2026_03"])("month %s → 400 invalid_request, for both", async (month) => {
    const s = await expectProblem(await statementOf(provA.id, month), 400, "invalid_request");
    expect(s.detail).toMatch(/^month: /);
    await expectProblem(await invoiceOf(payerA.accountId, month), 400, "invalid_request");
  });

  it("an unknown format → 400; html is for invoices only", async () => {
    await expectProblem(await call(`/v1/providers/${provA.id}/statements/2026-01?format=pdf`, { key: OPERATOR }), 400, "invalid_request");
    await expectProblem(await call(`/v1/providers/${provA.id}/statements/2026-01?format=html`, { key: OPERATOR }), 400, "invalid_request");
    await expectProblem(await invoiceOf(payerA.accountId, "2026-01", OPERATOR, "?format=xml"), 400, "invalid_request");
  });

  it("an unknown provider or account → 404 not_found, even for the operator", async () => {
    const s = await expectProblem(await statementOf("prov_doesnotexist00000000", "2026-01"), 404, "not_found");
    expect(s.detail).toBe("No such provider.");
    const i = await expectProblem(await invoiceOf("acct_doesnotexist00000000", "2026-01"), 404, "not_found");
    expect(i.detail).toBe("No such account.");
  });

  it("another provider's statement, or an owner's or agent's try → the 404 of a provider that does not exist", async () => {
    for (const key of [provB.key, payerA.ownerKey, payerA.agentKey]) {
      const body = await expectProblem(await statementOf(provA.id, "2026-01", key), 404, "not_found");
      expect(body.detail).toBe("No such provider.");
    }
  });

  it("another owner's invoice, or a provider's try → the 404 of an account that does not exist", async () => {
    for (const key of [payerB.ownerKey, provA.key, payerA.agentKey]) await expectProblem(await invoiceOf(payerA.accountId, "2026-01", key), 404, "not_found");
  });

  it("no credential → 401, before anything is looked up", async () => {
    await expectProblem(await call(`/v1/providers/${provA.id}/statements/2026-13`), 401, "unauthorized");
    await expectProblem(await call(`/v1/accounts/${payerA.accountId}/invoices/2026-01`), 401, "unauthorized");
  });
});

describe("monthly documents that would not add up", () => {
  it("a provider leg that no transfer or payout explains → 500 naming the mismatch, not a statement", async () => {
    const prov = await createProvider();
    const at = monthStart(2021, 3) + 5;
    await DB.prepare(
      "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, tags, created_at) VALUES (?, 1, 0, 'tr_orphan', ?, 123, 'USD', NULL, ?)",
    )
      .bind(`acct_orphanleg${prov.id.slice(-10)}`, prov.id, at)
      .run();
    const body = await expectProblem(await statementOf(prov.id, "2021-03"), 500, "internal_error");
    expect(body.detail).toContain("does not add up");
    expect(body.detail).toContain(`${prov.id} 2021-03 USD`);
    // The months around it hold no movement: their balances alone agree with the legs.
    expect((await statementOf(prov.id, "2021-04")).status).toBe(200);
  });

  it("a charge whose legs are missing → 500 naming the invoice and the figure, not an invoice", async () => {
    const p = await payer(0);
    const at = monthStart(2021, 3) + 5;
    await DB.prepare(
      "INSERT INTO transfers (account_id, seq, id, kind, amount, currency, created_at) VALUES (?, 999999, 'tr_nolegs', 'capture', 500, 'USD', ?)",
    )
      .bind(p.accountId, at)
      .run();
    const body = await expectProblem(await invoiceOf(p.accountId, "2021-03"), 500, "internal_error");
    expect(body.detail).toContain("does not add up");
    expect(body.detail).toContain("charges are 500 but the account's legs say 0");
  });

  it("sums past 2^53 − 1 → 422 amount_out_of_range with the exact value, never a rounded figure", async () => {
    const prov = await createProvider();
    const p = await payer(0);
    const big = { kind: "capture" as const, amount: Number.MAX_SAFE_INTEGER, providerId: prov.id, serviceId: "svc_big", at: monthStart(2021, 5) };
    await insertTransfer(p.accountId, big);
    await insertTransfer(p.accountId, big);
    const s = await expectProblem(await statementOf(prov.id, "2021-05"), 422, "amount_out_of_range");
    expect(s.detail).toContain(String(2n * BigInt(Number.MAX_SAFE_INTEGER)));
    const i = await expectProblem(await invoiceOf(p.accountId, "2021-05"), 422, "amount_out_of_range");
    expect(i.detail).toContain(String(2n * BigInt(Number.MAX_SAFE_INTEGER)));
  });
});
