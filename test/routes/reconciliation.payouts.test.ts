/**
 * The reconciler checks payouts (whole-ledger, on the first page of a full run): each payout row
 * has exactly its two legs, no payout leg lacks its row, and a provider holding payout legs is not
 * an unknown account. Tampering with a payout's legs in D1 is reported; each test puts D1 back.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api } from "./helpers";
import { exportNow } from "./ledger-helpers";
import { DB, earn, earningProvider, payout } from "./payout-helpers";
import type { RefundWorld } from "./refund-helpers";

let w: RefundWorld;
let paid: { id: string; amount: number };
beforeAll(async () => {
  w = await earningProvider();
  const [charge] = await earn(w, 3);
  const r = await payout(w.prov.id, { amount: 1_500, currency: "USD", reference: "wire-1" });
  expect(r.status).toBe(201);
  paid = r.body;
  expect((await payout(w.prov.id, { amount: 200, currency: "USD" })).status).toBe(201);
  // A refund after the payouts: the provider's available goes down, the ledger still balances.
  expect((await api("/v1/refunds", { key: OPERATOR, body: { transfer_id: charge } })).status).toBe(201);
  await exportNow(w.p.accountId);
});

async function fullRun() {
  const r = await api("/v1/reconciliation?limit=50", { key: OPERATOR });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

type Leg = {
  account_id: string;
  seq: number;
  leg: number;
  transfer_id: string;
  ledger_account: string;
  amount: number;
  currency: string;
  tags: string | null;
  created_at: number;
};

/** Tampers with the ledger in `tamper`, runs the reconciler, then puts the payout's legs back as they were. */
async function whileTampered(tamper: () => Promise<unknown>): Promise<any> {
  const { results: saved } = await DB.prepare("SELECT * FROM ledger_entries WHERE account_id = ?").bind(w.prov.id).all<Leg>();
  try {
    await tamper();
    return await fullRun();
  } finally {
    await DB.prepare("DELETE FROM ledger_entries WHERE account_id = ?").bind(w.prov.id).run();
    await DB.batch(
      saved.map((l) =>
        DB.prepare(
          "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ).bind(l.account_id, l.seq, l.leg, l.transfer_id, l.ledger_account, l.amount, l.currency, l.tags, l.created_at),
      ),
    );
  }
}

describe("GET /v1/reconciliation with payouts", () => {
  it("is clean after payouts and a refund: the provider is not an unknown account, all legs sum to zero", async () => {
    const r = await fullRun();
    expect(r).toMatchObject({ ok: true, discrepancies: [] });
    const { results } = await DB.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE account_id = ?").bind(w.prov.id).all<{ n: number }>();
    expect(results[0]?.n).toBe(4); // the run above did look at payout legs
  });

  it("reports a payout whose provider leg was deleted (unbalanced, and the whole ledger off by it)", async () => {
    const r = await whileTampered(() => DB.prepare("DELETE FROM ledger_entries WHERE transfer_id = ? AND leg = 0").bind(paid.id).run());
    expect(r.ok).toBe(false);
    expect(r.discrepancies).toContainEqual({ account_id: w.prov.id, seq: 1, kind: "unbalanced", detail: `payout ${paid.id}: legs sum to 1500` });
    expect(r.discrepancies).toContainEqual(
      expect.objectContaining({ account_id: null, kind: "unbalanced", detail: "all USD ledger entries sum to 1500, not 0" }),
    );
    expect(await fullRun()).toMatchObject({ ok: true });
  });

  it("reports a payout whose legs were both altered to balance at another amount (amount_mismatch)", async () => {
    const r = await whileTampered(() => DB.prepare("UPDATE ledger_entries SET amount = amount / 3 WHERE transfer_id = ?").bind(paid.id).run());
    expect(r.discrepancies).toEqual([{ account_id: w.prov.id, seq: 1, kind: "amount_mismatch", detail: expect.stringContaining(`payout ${paid.id}`) }]);
  });

  it("reports a payout with no legs at all (missing), and payout legs whose row is gone (unknown_in_d1)", async () => {
    const gone = await whileTampered(() => DB.prepare("DELETE FROM ledger_entries WHERE transfer_id = ?").bind(paid.id).run());
    expect(gone.discrepancies).toContainEqual({ account_id: w.prov.id, seq: 1, kind: "missing", detail: expect.stringContaining(paid.id) });

    const stray = await whileTampered(() =>
      DB.prepare(
        "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, created_at) VALUES (?1, 99, 0, 'po_forged', ?1, -5, 'USD', 0), (?1, 99, 1, 'po_forged', 'external', 5, 'USD', 0)",
      )
        .bind(w.prov.id)
        .run(),
    );
    expect(stray.discrepancies).toEqual([{ account_id: w.prov.id, seq: 99, kind: "unknown_in_d1", detail: expect.stringContaining("po_forged") }]);
    expect(await fullRun()).toMatchObject({ ok: true });
  });

  it("still reports legs under an id that is neither an account nor a provider", async () => {
    await DB.prepare(
      "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, created_at) VALUES ('prov_nobody', 1, 0, 'po_x', 'prov_nobody', -5, 'USD', 0), ('prov_nobody', 1, 1, 'po_x', 'external', 5, 'USD', 0)",
    ).run();
    try {
      const r = await fullRun();
      expect(r.discrepancies).toContainEqual(
        expect.objectContaining({ account_id: "prov_nobody", kind: "unknown_in_d1", detail: expect.stringMatching(/not an account/) }),
      );
    } finally {
      await DB.prepare("DELETE FROM ledger_entries WHERE account_id = 'prov_nobody'").run();
    }
  });
});
