import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, balance, callWithEnv } from "./helpers";
import { disputeTransfers, legsByAccount, opened, resolve, respond } from "./dispute-helpers";
import { exportNow } from "./ledger-helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

let w: RefundWorld;
beforeAll(async () => {
  w = await refundWorld(1_000, 1_000); // 1000 a call, 10% fee
});

async function reconciled(accountId: string) {
  await exportNow(accountId);
  const r = await api(`/v1/reconciliation?account_id=${accountId}`, { key: OPERATOR });
  expect(r.body.discrepancies).toEqual([]);
  expect(r.body.ok).toBe(true);
}

describe("disputes: unauthorized, compensated at once", () => {
  it("credits the payer from the compensation account before anyone answers", async () => {
    const charge = await exportedCharge(w);
    const before = await balance(w.p.accountId);
    const d = await opened(w, charge, "unauthorized");
    expect(d).toMatchObject({
      id: expect.stringMatching(/^dp_[0-9a-z]{20}$/),
      account_id: w.p.accountId,
      transfer_id: charge,
      provider_id: w.prov.id,
      service_id: w.svc.id,
      reason: "unauthorized",
      amount: 1_000,
      compensated: 1_000,
      currency: "USD",
      status: "open",
      evidence: null,
      resolved_at: null,
    });
    expect((await balance(w.p.accountId)).available).toBe(before.available + 1_000);
    // The provider finds it at once, and its earnings are untouched so far.
    const mine = await api("/v1/disputes", { key: w.prov.key });
    expect(mine.body.data.map((x: any) => x.id)).toContain(d.id);
    expect(await disputeTransfers(w.p.accountId, d.id)).toMatchObject([{ kind: "compensation", amount: 1_000, refund_of: null }]);
    expect(await legsByAccount(d.id)).toEqual({ compensation: -1_000, [w.p.accountId]: 1_000 });
  });

  it("contested, then won by the payer: the provider's earnings refund the charge and repay the compensation", async () => {
    const charge = await exportedCharge(w);
    const d = await opened(w, charge, "unauthorized");
    const contested = await respond(d.id, w.prov.key, { accept: false, evidence: "the key was used from the owner's usual address" });
    expect(contested.status, JSON.stringify(contested.body)).toBe(200);
    expect(contested.body).toMatchObject({ status: "open", evidence: "the key was used from the owner's usual address", contested_at: expect.any(String) });
    const afterCompensation = await balance(w.p.accountId);
    const won = await resolve(d.id, "payer");
    expect(won.status, JSON.stringify(won.body)).toBe(200);
    expect(won.body).toMatchObject({ status: "won_by_payer", resolved_at: expect.any(String) });
    // The payer keeps exactly the disputed amount once: +1000 refund, −1000 repayment.
    expect((await balance(w.p.accountId)).available).toBe(afterCompensation.available);
    expect(await disputeTransfers(w.p.accountId, d.id)).toMatchObject([
      { kind: "compensation", amount: 1_000 },
      { kind: "refund", amount: 1_000, fee: 100, refund_of: charge },
      { kind: "repayment", amount: 1_000 },
    ]);
    // Net: the provider gave back its 900, the platform its 100 fee, the compensation account is whole.
    expect(await legsByAccount(d.id)).toEqual({ compensation: 0, [w.p.accountId]: 1_000, [w.prov.id]: -900, platform: -100 });
    await reconciled(w.p.accountId);
  });

  it("won by the provider: the payer keeps the compensation, the provider its earnings", async () => {
    const charge = await exportedCharge(w);
    const d = await opened(w, charge, "unauthorized");
    await respond(d.id, w.prov.key, { accept: false, evidence: "delivered as asked" });
    const lost = await resolve(d.id, "provider");
    expect(lost.body).toMatchObject({ status: "won_by_provider", compensated: 1_000 });
    expect(await legsByAccount(d.id)).toEqual({ compensation: -1_000, [w.p.accountId]: 1_000 });
    await reconciled(w.p.accountId);
  });

  it("compensates at most COMPENSATION_LIMIT; winning brings the payer the rest", async () => {
    const charge = await exportedCharge(w);
    const { response } = callWithEnv({ COMPENSATION_LIMIT: "300" }, `/v1/accounts/${w.p.accountId}/disputes`, {
      key: w.p.ownerKey,
      body: { transfer_id: charge, reason: "unauthorized" },
    });
    const d = await (await response).json<any>();
    expect(d).toMatchObject({ amount: 1_000, compensated: 300 });
    const before = await balance(w.p.accountId);
    await resolve(d.id, "payer");
    expect((await balance(w.p.accountId)).available).toBe(before.available + 700);
    expect(await legsByAccount(d.id)).toEqual({ compensation: 0, [w.p.accountId]: 1_000, [w.prov.id]: -900, platform: -100 });
  });
});

describe("disputes: other reasons wait for the outcome", () => {
  it("moves nothing when opened; the provider accepts and its earnings refund the charge", async () => {
    const charge = await exportedCharge(w);
    const before = await balance(w.p.accountId);
    const d = await opened(w, charge, "not_delivered");
    expect(d).toMatchObject({ compensated: 0, status: "open" });
    expect((await balance(w.p.accountId)).available).toBe(before.available);
    const accepted = await respond(d.id, w.prov.key, { accept: true });
    expect(accepted.body).toMatchObject({ status: "accepted", resolved_at: expect.any(String) });
    expect((await balance(w.p.accountId)).available).toBe(before.available + 1_000);
    expect(await disputeTransfers(w.p.accountId, d.id)).toMatchObject([{ kind: "refund", amount: 1_000, fee: 100, refund_of: charge }]);
    await reconciled(w.p.accountId);
  });

  it("claims what was not refunded; refunds wait while it is open and resume if the provider wins", async () => {
    const charge = await exportedCharge(w);
    expect((await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: charge, amount: 400 } })).status).toBe(201);
    const d = await opened(w, charge, "defective");
    expect(d.amount).toBe(600);
    const blocked = await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: charge, amount: 1 } });
    expect(blocked.status).toBe(422);
    expect(blocked.body).toMatchObject({ code: "refund_exceeds_charge", refundable: 0 });
    await resolve(d.id, "provider");
    const after = await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: charge } });
    expect(after.body).toMatchObject({ amount: 600 });
  });

  it("lists the account's disputes for its owner, newest first, and every dispute for the operator", async () => {
    const first = await opened(w, await exportedCharge(w), "duplicate");
    const second = await opened(w, await exportedCharge(w), "duplicate");
    const page = await api(`/v1/accounts/${w.p.accountId}/disputes?limit=2`, { key: w.p.ownerKey });
    expect(page.body.data.map((x: any) => x.id)).toEqual([second.id, first.id]);
    const next = await api(`/v1/accounts/${w.p.accountId}/disputes?limit=2&cursor=${page.body.next_cursor}`, { key: w.p.ownerKey });
    expect(next.body.data.map((x: any) => x.id)).not.toContain(second.id);
    const all = await api("/v1/disputes?limit=100", { key: OPERATOR });
    expect(all.body.data.map((x: any) => x.id)).toEqual(expect.arrayContaining([first.id, second.id]));
  });

  it("writes each step to the audit trail", async () => {
    const charge = await exportedCharge(w);
    const d = await opened(w, charge, "unauthorized");
    await respond(d.id, w.prov.key, { accept: true });
    const trail = await api(`/v1/accounts/${w.p.accountId}/audit?limit=10`, { key: w.p.ownerKey });
    const events = trail.body.data.filter((e: any) => String(e.reason ?? "").includes(d.id)).map((e: any) => [e.event, e.actor, e.amount]);
    expect(events.reverse()).toEqual([
      ["dispute_opened", "owner", 1_000],
      ["compensation", "system", 1_000],
      ["refund", `provider:${w.prov.id}`, 1_000],
      ["compensation_repaid", "system", 1_000],
      ["dispute_accepted", `provider:${w.prov.id}`, 1_000],
    ]);
  });
});
