/**
 * I15 under races: payouts sent at once never take more than the provider has available, and the
 * provider's balance stays the sum of its legs; racing requests with one Idempotency-Key pay once.
 */
import { describe, expect, it } from "vitest";
import { EARNED_PER_CALL, earn, earningProvider, legSum, payout, payoutState, providerBalance } from "./payout-helpers";

describe("racing payouts (I15)", () => {
  it("100 payouts of 150 at once against 9000 available: exactly 60 are paid, the rest refused; balance = Σ legs", async () => {
    const w = await earningProvider();
    await earn(w, 10);
    const available = 10 * EARNED_PER_CALL;
    expect((await providerBalance(w.prov.id)).available).toBe(available);

    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => payout(w.prov.id, { amount: 150, currency: "USD", reference: `race-${i}` })));
    const paid = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(paid.length).toBe(available / 150);
    for (const r of refused) expect(r.body).toMatchObject({ status: 422, code: "insufficient_provider_funds" });

    const state = await payoutState(w.prov.id);
    expect(state.payouts.map((p) => p.seq)).toEqual(Array.from({ length: paid.length }, (_, i) => i + 1));
    expect(new Set(state.payouts.map((p) => p.id))).toEqual(new Set(paid.map((r) => r.body.id)));
    expect(state.legs.length).toBe(2 * paid.length);
    expect(await providerBalance(w.prov.id)).toEqual({ currency: "USD", pending: 0, available: 0, paid_out: available });
    expect(await legSum(w.prov.id)).toBe(0);
  });

  it("100 payouts of mixed amounts whose sum is far past available: the paid sum never passes it, and every refusal was owed", async () => {
    const w = await earningProvider();
    await earn(w, 5);
    const available = 5 * EARNED_PER_CALL;
    const amounts = Array.from({ length: 100 }, (_, i) => ((i * 37) % 250) + 1);
    expect(amounts.reduce((a, b) => a + b, 0)).toBeGreaterThan(2 * available);

    const results = await Promise.all(amounts.map((amount) => payout(w.prov.id, { amount, currency: "USD" })));
    const paidSum = results.filter((r) => r.status === 201).reduce((n, r) => n + r.body.amount, 0);
    expect(paidSum).toBeLessThanOrEqual(available);
    expect(paidSum).toBeGreaterThan(0);
    const after = await providerBalance(w.prov.id);
    expect(after).toEqual({ currency: "USD", pending: 0, available: available - paidSum, paid_out: paidSum });
    expect(await legSum(w.prov.id)).toBe(available - paidSum);
    // Available only went down while they raced, so each refused payout was more than what is left now.
    for (const [i, r] of results.entries()) {
      if (r.status === 201) continue;
      expect(r.body).toMatchObject({ code: "insufficient_provider_funds" });
      expect(amounts[i]).toBeGreaterThan(after.available);
      expect(r.body.available).toBeLessThan(amounts[i] as number);
    }
  });

  it("100 racing requests with one Idempotency-Key and body pay once; the others replay that payout", async () => {
    const w = await earningProvider();
    await earn(w, 2);
    const body = { amount: 1_000, currency: "USD", reference: "wire-race" };
    const results = await Promise.all(Array.from({ length: 100 }, () => payout(w.prov.id, body, { "idempotency-key": "race-key" })));
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") === "true").length).toBe(99);
    const state = await payoutState(w.prov.id);
    expect(state.payouts.length).toBe(1);
    expect(state.legs.length).toBe(2);
    expect(await providerBalance(w.prov.id)).toMatchObject({ available: 2 * EARNED_PER_CALL - 1_000, paid_out: 1_000 });
  });

  it("racing requests with one key and two bodies: one payout; its body replays, the other is idempotency_mismatch", async () => {
    const w = await earningProvider();
    await earn(w, 2);
    const bodies = [
      { amount: 300, currency: "USD" },
      { amount: 400, currency: "USD" },
    ];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => payout(w.prov.id, bodies[i % 2], { "idempotency-key": "two-bodies" })));
    const state = await payoutState(w.prov.id);
    expect(state.payouts.length).toBe(1);
    const winner = state.payouts[0] as { id: string; amount: number };
    for (const [i, r] of results.entries()) {
      if (bodies[i % 2]?.amount === winner.amount) expect(r).toMatchObject({ status: 201, body: { id: winner.id } });
      else expect(r).toMatchObject({ status: 422, body: { code: "idempotency_mismatch" } });
    }
    expect(await legSum(w.prov.id)).toBe(2 * EARNED_PER_CALL - winner.amount);
  });
});
