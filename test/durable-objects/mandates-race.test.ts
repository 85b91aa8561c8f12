import { describe, expect, it } from "vitest";
import { newId, randomToken } from "../../core/ids";
import { utcDay } from "../../durable-objects/mandate-check";
import { balanceOf, reserveInput } from "./helpers";
import { type Ok, SLUG, bound, counters, days, holdCount, reserve } from "./mandate-helpers";

// Racing calls cannot overrun a mandate's cap (I2's race, I9): its counters move inside the
// reserve transaction.

describe("racing calls cannot overrun a mandate (I2, I9)", () => {
  it("max_total 10 on a balance of 1,000,000: 200 concurrent reserves of 1 → exactly 10 accepted", async () => {
    const acct = await bound(1_000_000, { max_total: 10, max_per_call: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, () => reserve(acct, 1)));
    const ok = results.filter((r): r is Ok => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(190);
    for (const r of refused) {
      expect(r).toEqual({
        ok: false,
        code: "mandate_exceeded",
        mandate_id: acct.mandate.id,
        detail: "The key's mandate refuses this call (mandate_exceeded).",
      });
    }
    expect(await counters(acct)).toEqual({ spent: 0, pending: 10 });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000_000, 10));
    expect(await holdCount(acct)).toBe(10);

    // Capturing them all racing leaves the cap spent; nothing more fits.
    const caps = await Promise.all(ok.map((r) => acct.stub.capture({ holdId: r.hold_id, amount: 1 })));
    expect(caps.every((c) => c.ok)).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 10, pending: 0 });
    expect(await acct.stub.balance()).toEqual(balanceOf(999_990, 0));
    const again = await Promise.all(Array.from({ length: 20 }, () => reserve(acct, 1)));
    expect(again.filter((r) => r.ok)).toHaveLength(0);

    // The trail has one accepted and one refused hold event per call, no more.
    const trail = (await acct.stub.auditEvents(1_000, null)).data.filter((e) => e.event === "hold");
    expect(trail.filter((e) => e.outcome === "accepted")).toHaveLength(10);
    expect(trail.filter((e) => e.outcome === "refused" && e.reason === "mandate_exceeded")).toHaveLength(210);
  });

  it("the per-day cap holds under a race too: max_per_day 7 → exactly 7", async () => {
    const acct = await bound(1_000_000, { max_total: 100, max_per_day: 7, max_per_call: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, () => reserve(acct, 1)));
    expect(results.filter((r) => r.ok)).toHaveLength(7);
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 0, pending: 7 }]);
  });

  it("two keys on one mandate share its cap", async () => {
    const acct = await bound(1_000_000, { max_total: 10, max_per_call: 1 });
    const otherHash = `hash_${randomToken(32)}`;
    expect((await acct.stub.createAgentKey({ id: newId("ak"), name: "second", keyHash: otherHash, mandateId: acct.mandate.id, actor: "owner" })).ok).toBe(true);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => acct.stub.reserve(reserveInput(i % 2 ? otherHash : acct.keyHash, 1, { serviceSlug: SLUG }))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 10 });
  });
});
