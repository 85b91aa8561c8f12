import { describe, expect, it } from "vitest";
import { utcDay } from "../../durable-objects/mandate-check";
import { balanceOf, mandateOf, reserveInput, sleep } from "./helpers";
import { HOUR, SLUG, bound, counters, days, expectRefused, lastAudit, reserveOk } from "./mandate-helpers";

// Mandate violations (I9): every one refuses the hold inside the reserve transaction — nothing
// held, an audit "hold" event refused with the reason.

describe("violations: 403 codes, nothing held, audited", () => {
  it("mandate_not_started: before valid_from", async () => {
    const acct = await bound(1_000, { valid_from: Date.now() + HOUR, valid_until: Date.now() + 2 * HOUR });
    await expectRefused(acct, 1, "mandate_not_started");
  });

  it("mandate_expired: after valid_until", async () => {
    const acct = await bound(1_000, { valid_from: Date.now() - 2 * HOUR, valid_until: Date.now() - 1 });
    await expectRefused(acct, 1, "mandate_expired");
  });

  it("mandate_expired: a mandate that was valid becomes expired at valid_until", async () => {
    const acct = await bound(1_000, { valid_until: Date.now() + 300 });
    const hold = await reserveOk(acct, 5);
    await sleep(350);
    await expectRefused(acct, 5, "mandate_expired");
    // A hold made inside the window still settles after it.
    expect((await acct.stub.capture({ holdId: hold, amount: 5 })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 5, pending: 0 });
  });

  it("mandate_service_not_allowed: a slug outside the list (or none)", async () => {
    const acct = await bound(1_000, { services: ["search", "translate-pro"] });
    await expectRefused(acct, 1, "mandate_service_not_allowed", { serviceSlug: "translate" });
    await expectRefused(acct, 1, "mandate_service_not_allowed", { serviceSlug: undefined });
    await reserveOk(acct, 1, { serviceSlug: "search" });
    await reserveOk(acct, 1, { serviceSlug: "translate-pro" });
    expect(await counters(acct)).toEqual({ spent: 0, pending: 2 });
  });

  it("mandate_per_call_exceeded: one over max_per_call; exactly max_per_call is held", async () => {
    const acct = await bound(1_000, { max_per_call: 40 });
    await expectRefused(acct, 41, "mandate_per_call_exceeded");
    await reserveOk(acct, 40);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 40 });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 40));
  });

  it("mandate_exceeded: posted + pending + this hold over max_total; exactly at the cap is held", async () => {
    const acct = await bound(1_000, { max_total: 25, max_per_call: 25 });
    const a = await reserveOk(acct, 10);
    expect((await acct.stub.capture({ holdId: a, amount: 10 })).ok).toBe(true); // spent 10
    await reserveOk(acct, 10); // pending 10
    expect(await counters(acct)).toEqual({ spent: 10, pending: 10 });
    await expectRefused(acct, 6, "mandate_exceeded");
    await reserveOk(acct, 5); // 10 + 10 + 5 = 25
    expect(await counters(acct)).toEqual({ spent: 10, pending: 15 });
    await expectRefused(acct, 1, "mandate_exceeded");
    expect(await acct.stub.balance()).toEqual(balanceOf(990, 15));
  });

  it("mandate_exceeded: the per-UTC-day cap, below the total cap", async () => {
    const acct = await bound(1_000, { max_total: 100, max_per_day: 15 });
    await reserveOk(acct, 10);
    await expectRefused(acct, 6, "mandate_exceeded");
    await reserveOk(acct, 5);
    await expectRefused(acct, 1, "mandate_exceeded");
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 0, pending: 15 }]);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 15 });
  });

  it("mandate_revoked: revocation is effective on the next call", async () => {
    const acct = await bound(1_000);
    const hold = await reserveOk(acct, 7);
    const revoked = mandateOf(await acct.stub.revokeMandate({ id: acct.mandate.id, actor: "owner" }));
    expect(revoked).toMatchObject({ id: acct.mandate.id, revoked_at: expect.any(String), pending: 7 });
    await expectRefused(acct, 1, "mandate_revoked");
    // A hold made before the revocation still resolves.
    expect((await acct.stub.capture({ holdId: hold, amount: 7 })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 7, pending: 0 });
    await expectRefused(acct, 1, "mandate_revoked");
  });

  it("the mandate is checked before the balance: an empty account still answers with the mandate's code", async () => {
    const acct = await bound(0, { max_per_call: 5 });
    await expectRefused(acct, 6, "mandate_per_call_exceeded");
    // Within the mandate, the balance decides (and the audit says so, with the mandate).
    const input = reserveInput(acct.keyHash, 5, { serviceSlug: SLUG });
    expect(await acct.stub.reserve(input)).toEqual({ ok: false, code: "insufficient_funds", price: 5, available: 0, currency: "USD" });
    expect(await lastAudit(acct)).toMatchObject({
      event: "hold",
      outcome: "refused",
      reason: "insufficient_funds",
      mandate_id: acct.mandate.id,
      request_id: input.requestId,
    });
    expect(await counters(acct)).toEqual({ spent: 0, pending: 0 });
  });
});
