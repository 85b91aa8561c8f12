import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, balance } from "./helpers";
import { DB, exportNow } from "./ledger-helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

let w: RefundWorld;
beforeAll(async () => {
  w = await refundWorld(1_000, 1_000); // 10% fee
});

const refund = (key: string, body: unknown, headers: Record<string, string> = {}) => api("/v1/refunds", { key, body, headers });

describe("POST /v1/refunds", () => {
  it("the provider refunds part of its charge; the payer's balance goes up by it", async () => {
    const charge = await exportedCharge(w);
    const before = await balance(w.p.accountId);
    const r = await refund(w.prov.key, { transfer_id: charge, amount: 250, reason: "slow answer" });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^rf_[0-9a-z]{20}$/),
      transfer_id: charge,
      account_id: w.p.accountId,
      amount: 250,
      fee: 25,
      currency: "USD",
      reason: "slow answer",
      created_at: expect.any(String),
    });
    expect(await balance(w.p.accountId)).toMatchObject({ posted: before.posted + 250, available: before.available + 250 });
    // The rest by default, then nothing is left.
    const rest = await refund(w.prov.key, { transfer_id: charge });
    expect(rest.status).toBe(201);
    expect(rest.body).toMatchObject({ amount: 750, fee: 75, reason: "refund" });
  });

  it("the operator may refund any charge", async () => {
    const charge = await exportedCharge(w);
    const r = await refund(OPERATOR, { transfer_id: charge, amount: 1 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ transfer_id: charge, amount: 1, fee: 0 });
  });

  it("the same Idempotency-Key and body replays the first refund, moving no money", async () => {
    const charge = await exportedCharge(w);
    const first = await refund(w.prov.key, { transfer_id: charge, amount: 100 }, { "idempotency-key": "rf-1" });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const posted = (await balance(w.p.accountId)).posted;
    const again = await refund(w.prov.key, { transfer_id: charge, amount: 100 }, { "idempotency-key": "rf-1" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect((await balance(w.p.accountId)).posted).toBe(posted);
  });

  it("shows in the payer's journal as a refund line, and its legs in D1 reverse the charge's", async () => {
    const charge = await exportedCharge(w);
    const r = await refund(w.prov.key, { transfer_id: charge, amount: 333 });
    await exportNow(w.p.accountId);
    const journal = await api(`/v1/accounts/${w.p.accountId}/transfers?limit=1`, { key: w.p.ownerKey });
    expect(journal.body.data[0]).toMatchObject({ id: r.body.id, kind: "refund", amount: 333, fee: 33, refund_of: charge });
    const legs = await DB.prepare("SELECT ledger_account, amount FROM ledger_entries WHERE transfer_id = ? ORDER BY leg").bind(r.body.id).all();
    expect(legs.results).toEqual([
      { ledger_account: w.p.accountId, amount: 333 },
      { ledger_account: w.prov.id, amount: -300 },
      { ledger_account: "platform", amount: -33 },
    ]);
  });

  it("200 concurrent refunds of one charge over HTTP never sum past it", async () => {
    const charge = await exportedCharge(w);
    const results = await Promise.all(Array.from({ length: 200 }, () => refund(w.prov.key, { transfer_id: charge, amount: 9 })));
    const ok = results.filter((r) => r.status === 201);
    expect(ok).toHaveLength(111); // 111 × 9 = 999 ≤ 1000
    expect(results.filter((r) => r.status !== 201).every((r) => r.status === 422 && r.body.code === "refund_exceeds_charge")).toBe(true);
    await exportNow(w.p.accountId);
    const refunded = await DB.prepare("SELECT SUM(amount) AS n FROM transfers WHERE refund_of = ?").bind(charge).first<{ n: number }>();
    expect(refunded?.n).toBe(999);
  });
});

describe("GET /v1/refunds", () => {
  it("a provider lists its charges' refunds newest first, page by page; the operator sees them too", async () => {
    const other = await refundWorld(500, 0);
    const mine = await exportedCharge(other);
    for (const amount of [1, 2, 3]) expect((await refund(other.prov.key, { transfer_id: mine, amount })).status).toBe(201);
    await exportNow(other.p.accountId);
    const first = await api("/v1/refunds?limit=2", { key: other.prov.key });
    expect(first.status).toBe(200);
    expect(first.body.data.map((r: { amount: number }) => r.amount)).toEqual([3, 2]);
    expect(first.body.data[0]).toMatchObject({ transfer_id: mine, account_id: other.p.accountId, currency: "USD" });
    const second = await api(`/v1/refunds?limit=2&cursor=${first.body.next_cursor}`, { key: other.prov.key });
    expect(second.body).toMatchObject({ data: [{ amount: 1 }], next_cursor: null });
    const all = await api("/v1/refunds?limit=100", { key: OPERATOR });
    expect(all.status).toBe(200);
    expect(all.body.data.some((r: { transfer_id: string }) => r.transfer_id === mine)).toBe(true);
  });
});
