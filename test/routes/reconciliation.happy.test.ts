import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import { ledgerFor } from "../../worker/account-client/stub";
import { OPERATOR, api, createProvider, createService, payer, type Payer } from "./helpers";
import { DB, exportNow, paidCall, testEnv } from "./ledger-helpers";

let svc: { slug: string };
beforeAll(async () => {
  const prov = await createProvider();
  svc = await createService(prov.key, { prices: [{ per_call: 100 }] });
});

/** An account with a credit and two captures (seqs 1–3), all exported to D1. */
async function exported(): Promise<Payer> {
  const p = await payer(10_000);
  await paidCall(svc.slug, p.agentKey);
  await paidCall(svc.slug, p.agentKey);
  await exportNow(p.accountId);
  return p;
}

async function reconcile(query = "") {
  const r = await api(`/v1/reconciliation${query}`, { key: OPERATOR });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const kinds = (body: any) => body.discrepancies.map((d: any) => [d.kind, d.seq]);
const sql = (q: string, ...args: unknown[]) =>
  DB.prepare(q)
    .bind(...args)
    .run();

describe("GET /v1/reconciliation", () => {
  it("a clean ledger: ok, no discrepancy, every account and transfer checked", async () => {
    const [a, b] = await Promise.all([exported(), exported()]);
    const body = await reconcile();
    expect(body).toMatchObject({ ok: true, discrepancies: [], not_yet_exported: 0, next_cursor: null });
    expect(body.accounts).toBeGreaterThanOrEqual(2);
    expect(body.transfers_checked).toBeGreaterThanOrEqual(6);
    expect(await reconcile(`?account_id=${a.accountId}`)).toMatchObject({ ok: true, accounts: 1, transfers_checked: 3 });
    expect(await reconcile(`?account_id=${b.accountId}`)).toMatchObject({ ok: true, accounts: 1, transfers_checked: 3 });
  });

  it("pages through accounts with next_cursor", async () => {
    await Promise.all([exported(), exported()]);
    const total = (await reconcile("?limit=50")).accounts;
    let seen = 0;
    let cursor: string | null = null;
    do {
      const page: any = await reconcile(`?limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.accounts).toBe(1);
      seen += page.accounts;
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toBe(total);
  });

  it("a transfer deleted from D1: missing (and a sequence gap)", async () => {
    const p = await exported();
    await sql("DELETE FROM ledger_entries WHERE account_id = ? AND seq = 2", p.accountId);
    await sql("DELETE FROM transfers WHERE account_id = ? AND seq = 2", p.accountId);
    const body = await reconcile(`?account_id=${p.accountId}`);
    expect(body.ok).toBe(false);
    expect(kinds(body)).toEqual([
      ["sequence_gap", 2],
      ["missing", 2],
    ]);
    expect(body.discrepancies[1]).toMatchObject({ account_id: p.accountId, detail: expect.stringMatching(/was exported .* but is not in D1/) });
  });

  it("a foreign row inserted in D1: unknown_in_d1", async () => {
    const p = await exported();
    const at = Date.now();
    await DB.batch([
      DB.prepare(
        "INSERT INTO transfers (account_id, seq, id, kind, amount, currency, created_at) VALUES (?, 4, 'tr_forged0000000000000', 'credit', 500, 'USD', ?)",
      ).bind(p.accountId, at),
      DB.prepare(
        "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, created_at) VALUES (?, 4, 0, 'tr_forged0000000000000', 'external', -500, 'USD', ?), (?, 4, 1, 'tr_forged0000000000000', ?, 500, 'USD', ?)",
      ).bind(p.accountId, at, p.accountId, p.accountId, at),
    ]);
    const body = await reconcile(`?account_id=${p.accountId}`);
    expect(kinds(body)).toEqual([["unknown_in_d1", 4]]);
    expect(body.discrepancies[0].detail).toMatch(/tr_forged/);
  });

  it("an amount changed in D1: amount_mismatch", async () => {
    const p = await exported();
    await sql("UPDATE transfers SET amount = amount + 1 WHERE account_id = ? AND seq = 3", p.accountId);
    const body = await reconcile(`?account_id=${p.accountId}`);
    expect(kinds(body)).toEqual([
      ["amount_mismatch", 3],
      ["amount_mismatch", 3],
    ]);
    expect(body.discrepancies.map((d: any) => d.detail).join("\n")).toMatch(/amount: journal 100, D1 101/);
  });

  it("a leg changed in D1: unbalanced", async () => {
    const p = await exported();
    await sql("UPDATE ledger_entries SET amount = amount + 1 WHERE account_id = ? AND seq = 2 AND leg = 1", p.accountId);
    const body = await reconcile(`?account_id=${p.accountId}`);
    expect(kinds(body)).toEqual([["unbalanced", 2]]);
    expect(body.discrepancies[0].detail).toMatch(/legs sum to 1/);
    await sql("UPDATE ledger_entries SET amount = amount - 1 WHERE account_id = ? AND seq = 2 AND leg = 1", p.accountId);
  });

  it("a seq gap left in D1: sequence_gap at the first absent seq", async () => {
    const p = await exported();
    await sql("UPDATE transfers SET seq = 7 WHERE account_id = ? AND seq = 3", p.accountId);
    await sql("UPDATE ledger_entries SET seq = 7 WHERE account_id = ? AND seq = 3", p.accountId);
    const body = await reconcile(`?account_id=${p.accountId}`);
    expect(kinds(body)).toEqual([
      ["sequence_gap", 3],
      ["amount_mismatch", 3],
    ]);
    expect(body.discrepancies[0].detail).toBe("seqs 3–6 are absent from D1, which holds seq 7");
  });

  it("an export cut short: not yet exported within the grace period, missing after it, clean once the alarm runs", async () => {
    const p = await exported();
    // As if the DO died after committing seq 3 but before D1 got it: cursor back at 2, row absent.
    await runInDurableObject(ledgerFor(testEnv, p.accountId), (_: AccountLedger, state) => {
      state.storage.sql.exec("UPDATE export_state SET exported_seq = 2 WHERE id = 1");
    });
    await sql("DELETE FROM ledger_entries WHERE account_id = ? AND seq = 3", p.accountId);
    await sql("DELETE FROM transfers WHERE account_id = ? AND seq = 3", p.accountId);

    expect(await reconcile(`?account_id=${p.accountId}`)).toMatchObject({ ok: true, not_yet_exported: 1 });
    const late = await reconcile(`?account_id=${p.accountId}&grace_seconds=0`);
    expect(kinds(late)).toEqual([["missing", 3]]);
    expect(late.discrepancies[0].detail).toMatch(/still not in D1/);

    await exportNow(p.accountId);
    expect(await reconcile(`?account_id=${p.accountId}&grace_seconds=0`)).toMatchObject({ ok: true, not_yet_exported: 0, transfers_checked: 3 });
  });

  // Last: these break the whole ledger for every later full run in this file.
  it("a full run reports whole-ledger imbalance and rows of unknown accounts", async () => {
    const p = await exported();
    await sql("UPDATE ledger_entries SET amount = amount + 7 WHERE account_id = ? AND seq = 1 AND leg = 1", p.accountId);
    await sql("INSERT INTO transfers (account_id, seq, id, kind, amount, currency, created_at) VALUES ('acct_ghost', 1, 'tr_ghost', 'credit', 1, 'USD', 0)");
    const body = await reconcile();
    expect(body.ok).toBe(false);
    expect(body.discrepancies).toContainEqual({ account_id: null, seq: null, kind: "unbalanced", detail: "all USD ledger entries sum to 7, not 0" });
    expect(body.discrepancies).toContainEqual({ account_id: "acct_ghost", seq: null, kind: "unknown_in_d1", detail: expect.stringMatching(/not an account/) });
    expect(body.discrepancies).toContainEqual(expect.objectContaining({ account_id: p.accountId, seq: 1, kind: "unbalanced" }));
  });
});
