/**
 * Provider balances and payouts (docs/PAYOUTS.md): the pending/available split by PAYOUT_DELAY_S
 * over real earnings in D1, payouts and their legs, listing, idempotency, and I15 (a payout never
 * takes more than is available; a refund after a payout shows as a negative available).
 */
import { describe, expect, it } from "vitest";
import { OPERATOR, api, call, expectProblem } from "./helpers";
import { exportNow } from "./ledger-helpers";
import { apiWithEnv, DB, EARNED_PER_CALL, earn, earningProvider, legSum, NOW, payout, payoutState, providerBalance } from "./payout-helpers";

const DEFAULT_DELAY = {}; // wrangler.toml's PAYOUT_DELAY_S: two days
const TWO_DAYS = { PAYOUT_DELAY_S: "172800" };

describe("GET /v1/providers/{id}/balance", () => {
  it("fresh earnings are pending for PAYOUT_DELAY_S and available with no delay; pending + available = Σ legs", async () => {
    const w = await earningProvider();
    await earn(w, 2);
    const sum = await legSum(w.prov.id);
    expect(sum).toBe(2 * EARNED_PER_CALL);
    for (const vars of [DEFAULT_DELAY, TWO_DAYS]) {
      expect(await providerBalance(w.prov.id, vars)).toEqual({ currency: "USD", pending: sum, available: 0, paid_out: 0 });
    }
    expect(await providerBalance(w.prov.id, NOW)).toEqual({ currency: "USD", pending: 0, available: sum, paid_out: 0 });
    // The provider reads its own balance, the same.
    expect(await providerBalance(w.prov.id, NOW, "USD", w.prov.key)).toEqual({ currency: "USD", pending: 0, available: sum, paid_out: 0 });
  });

  it("splits by each leg's age: an older earning is available while a younger one is still pending", async () => {
    const w = await earningProvider();
    await earn(w, 1);
    // The first earning is older than the delay (it only ages); the second has ~5 s of slack, room
    // for a slow machine between its capture and the balance read.
    await new Promise((r) => setTimeout(r, 5_100));
    await earn(w, 1);
    expect(await providerBalance(w.prov.id, { PAYOUT_DELAY_S: "5" })).toEqual({
      currency: "USD",
      pending: EARNED_PER_CALL,
      available: EARNED_PER_CALL,
      paid_out: 0,
    });
  });

  it("a provider with no legs has no balances; a refund counts at once, whatever the delay", async () => {
    const w = await earningProvider();
    const empty = await apiWithEnv(NOW, `/v1/providers/${w.prov.id}/balance`, { key: w.prov.key });
    expect(empty).toMatchObject({ status: 200, body: { provider_id: w.prov.id, balances: [] } });
    const [charge] = await earn(w, 1);
    const r = await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: charge, amount: 500 } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await exportNow(w.p.accountId);
    // The refund debits the provider 450 (500 less its 10% fee part) at once; the earning is still pending.
    expect(await providerBalance(w.prov.id, TWO_DAYS)).toEqual({ currency: "USD", pending: EARNED_PER_CALL, available: -450, paid_out: 0 });
    expect(await providerBalance(w.prov.id, NOW)).toEqual({ currency: "USD", pending: 0, available: EARNED_PER_CALL - 450, paid_out: 0 });
    expect(await legSum(w.prov.id)).toBe(EARNED_PER_CALL - 450);
  });
});

describe("POST /v1/providers/{id}/payouts", () => {
  it("pays out of the available balance: 201, two legs in D1 (provider debited, external credited), balance and paid_out move", async () => {
    const w = await earningProvider();
    await earn(w, 3);
    const r = await payout(w.prov.id, { amount: 1_000, currency: "USD", reference: "wire-0001" });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^po_[0-9a-z]{20}$/),
      provider_id: w.prov.id,
      amount: 1_000,
      currency: "USD",
      reference: "wire-0001",
      created_at: expect.any(String),
    });
    const state = await payoutState(w.prov.id);
    expect(state.payouts).toEqual([{ id: r.body.id, seq: 1, amount: 1_000, currency: "USD", reference: "wire-0001", idempotency_key: null }]);
    expect(state.legs).toEqual([
      { seq: 1, leg: 0, transfer_id: r.body.id, ledger_account: w.prov.id, amount: -1_000, currency: "USD" },
      { seq: 1, leg: 1, transfer_id: r.body.id, ledger_account: "external", amount: 1_000, currency: "USD" },
    ]);
    const created = await DB.prepare("SELECT created_at FROM ledger_entries WHERE transfer_id = ?").bind(r.body.id).all<{ created_at: number }>();
    expect(created.results.map((l) => new Date(l.created_at).toISOString())).toEqual([r.body.created_at, r.body.created_at]);
    expect(await providerBalance(w.prov.id, NOW)).toEqual({ currency: "USD", pending: 0, available: 3 * EARNED_PER_CALL - 1_000, paid_out: 1_000 });
    // The payout counts at once even while the earnings are pending: available goes below zero.
    expect(await providerBalance(w.prov.id, TWO_DAYS)).toEqual({ currency: "USD", pending: 3 * EARNED_PER_CALL, available: -1_000, paid_out: 1_000 });
    expect(await legSum(w.prov.id)).toBe(3 * EARNED_PER_CALL - 1_000);
  });

  it("pending earnings cannot be paid out (422 with the available amount)", async () => {
    const w = await earningProvider();
    await earn(w, 2);
    const r = await payout(w.prov.id, { amount: 1, currency: "USD" }, {}, TWO_DAYS);
    expect(r).toMatchObject({ status: 422, body: { code: "insufficient_provider_funds", available: 0, currency: "USD" } });
    expect(r.contentType).toMatch(/^application\/problem\+json/);
    // Nor in a currency it has no earnings in.
    const eur = await payout(w.prov.id, { amount: 1, currency: "EUR" });
    expect(eur).toMatchObject({ status: 422, body: { code: "insufficient_provider_funds", available: 0, currency: "EUR" } });
    expect(await payoutState(w.prov.id)).toEqual({ payouts: [], legs: [] });
  });

  it("a refund after a payout makes available negative; the next payout past it is refused, a later one is netted", async () => {
    const w = await earningProvider();
    const [charge] = await earn(w, 1);
    expect((await payout(w.prov.id, { amount: EARNED_PER_CALL, currency: "USD" })).status).toBe(201);
    const refund = await api("/v1/refunds", { key: OPERATOR, body: { transfer_id: charge } });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    await exportNow(w.p.accountId);
    // Shown, never hidden or clamped: the provider owes what the refund took back.
    expect(await providerBalance(w.prov.id, NOW)).toEqual({ currency: "USD", pending: 0, available: -EARNED_PER_CALL, paid_out: EARNED_PER_CALL });
    const refused = await payout(w.prov.id, { amount: 1, currency: "USD" });
    expect(refused).toMatchObject({ status: 422, body: { code: "insufficient_provider_funds", available: -EARNED_PER_CALL } });

    await earn(w, 2); // 1800 more: 900 net of what was owed
    const tooMuch = await payout(w.prov.id, { amount: EARNED_PER_CALL + 1, currency: "USD" });
    expect(tooMuch).toMatchObject({ status: 422, body: { code: "insufficient_provider_funds", available: EARNED_PER_CALL } });
    expect((await payout(w.prov.id, { amount: EARNED_PER_CALL, currency: "USD" })).status).toBe(201);
    expect(await providerBalance(w.prov.id, NOW)).toEqual({ currency: "USD", pending: 0, available: 0, paid_out: 2 * EARNED_PER_CALL });
    expect(await legSum(w.prov.id)).toBe(0);
    expect((await payoutState(w.prov.id)).payouts.map((p) => p.seq)).toEqual([1, 2]);
  });

  it("the same Idempotency-Key and body replays the first payout and moves nothing; another body is 422 idempotency_mismatch", async () => {
    const w = await earningProvider();
    await earn(w, 2);
    const body = { amount: 700, currency: "USD", reference: "wire-7" };
    const first = await payout(w.prov.id, body, { "idempotency-key": "po-key-1" });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const before = { state: await payoutState(w.prov.id), balance: await providerBalance(w.prov.id) };

    const again = await payout(w.prov.id, body, { "idempotency-key": "po-key-1" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);

    for (const other of [
      { ...body, amount: 701 },
      { ...body, reference: "wire-8" },
      { amount: 700, currency: "USD" },
      { ...body, currency: "EUR" },
    ]) {
      const r = await payout(w.prov.id, other, { "idempotency-key": "po-key-1" });
      expect(r).toMatchObject({ status: 422, body: { code: "idempotency_mismatch" } });
    }
    expect({ state: await payoutState(w.prov.id), balance: await providerBalance(w.prov.id) }).toEqual(before);

    // A key belongs to its provider: another provider's payout with it is its own.
    const v = await earningProvider();
    await earn(v, 1);
    const theirs = await payout(v.prov.id, body, { "idempotency-key": "po-key-1" });
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
    // A refused payout keeps nothing: its key works once the money is there.
    const early = await payout(v.prov.id, { amount: 5_000, currency: "USD" }, { "idempotency-key": "po-key-2" });
    expect(early.status).toBe(422);
    await earn(v, 6);
    expect((await payout(v.prov.id, { amount: 5_000, currency: "USD" }, { "idempotency-key": "po-key-2" })).status).toBe(201);
  });
});

describe("GET /v1/providers/{id}/payouts", () => {
  it("lists the provider's payouts newest first, page by page, to the provider and the operator", async () => {
    const w = await earningProvider();
    await earn(w, 2);
    const ids: string[] = [];
    for (const amount of [100, 200, 300]) {
      const r = await payout(w.prov.id, { amount, currency: "USD" });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
      await new Promise((res) => setTimeout(res, 2)); // distinct created_at
    }
    const first = await api(`/v1/providers/${w.prov.id}/payouts?limit=2`, { key: w.prov.key });
    expect(first.status).toBe(200);
    expect(first.body.data.map((p: { id: string }) => p.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.data[0]).toMatchObject({ provider_id: w.prov.id, amount: 300, currency: "USD", reference: null });
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await api(`/v1/providers/${w.prov.id}/payouts?limit=2&cursor=${first.body.next_cursor}`, { key: OPERATOR });
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: ids[0], amount: 100 })], next_cursor: null });
    // Another provider's list is its own (empty), never this one's.
    const v = await earningProvider();
    expect((await api(`/v1/providers/${v.prov.id}/payouts`, { key: v.prov.key })).body).toEqual({ data: [], next_cursor: null });
    await expectProblem(await call(`/v1/providers/${w.prov.id}/payouts?cursor=bm90LWEtY3Vyc29y`, { key: OPERATOR }), 400, "invalid_request");
  });
});
