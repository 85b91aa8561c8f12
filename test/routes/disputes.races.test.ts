import { beforeAll, describe, expect, it } from "vitest";
import { api, balance } from "./helpers";
import { disputeTransfers, openDispute, opened, resolve, respond } from "./dispute-helpers";
import { DB, exportNow } from "./ledger-helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

// I14 under races: a dispute reaches exactly one final state, whatever arrives at once.

let w: RefundWorld;
beforeAll(async () => {
  w = await refundWorld(1_000, 1_000);
});

describe("disputes under races (I14)", () => {
  it("resolved twice at once, both ways: one decision lands, the other is 409, money moves once", async () => {
    const d = await opened(w, await exportedCharge(w), "unauthorized");
    const before = await balance(w.p.accountId);
    const [a, b] = await Promise.all([resolve(d.id, "payer"), resolve(d.id, "provider")]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body).toMatchObject({ code: "dispute_closed" });
    const winner = a.status === 200 ? a : b;
    const transfers = await disputeTransfers(w.p.accountId, d.id);
    if (winner.body.status === "won_by_payer") {
      expect(transfers.map((t) => t.kind)).toEqual(["compensation", "refund", "repayment"]);
      expect((await balance(w.p.accountId)).available).toBe(before.available); // +1000 refund −1000 repayment
    } else {
      expect(winner.body.status).toBe("won_by_provider");
      expect(transfers.map((t) => t.kind)).toEqual(["compensation"]);
    }
  });

  it("20 resolutions and 20 provider answers at once: exactly one final state, one refund at most", async () => {
    const d = await opened(w, await exportedCharge(w), "not_delivered");
    const steps = [
      ...Array.from({ length: 20 }, (_, i) => resolve(d.id, i % 2 ? "payer" : "provider")),
      ...Array.from({ length: 20 }, () => respond(d.id, w.prov.key, { accept: true })),
    ];
    const results = await Promise.all(steps);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.body.code === "dispute_closed")).toBe(true);
    const refunds = (await disputeTransfers(w.p.accountId, d.id)).filter((t) => t.kind === "refund");
    expect(refunds.length).toBeLessThanOrEqual(1);
    const final = await DB.prepare("SELECT status FROM disputes WHERE id = ?").bind(d.id).first<{ status: string }>();
    expect(["accepted", "won_by_payer", "won_by_provider"]).toContain(final?.status);
  });

  it("30 disputes of one charge at once: one opens, the others are told it is disputed, one compensation", async () => {
    const charge = await exportedCharge(w);
    const results = await Promise.all(Array.from({ length: 30 }, () => openDispute(w, { transfer_id: charge, reason: "unauthorized" })));
    const ok = results.filter((r) => r.status === 201);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === "dispute_exists" && r.body.dispute_id === ok[0]?.body.id)).toBe(true);
    await exportNow(w.p.accountId);
    const comp = await DB.prepare("SELECT COUNT(*) AS n FROM transfers t WHERE kind = 'compensation' AND dispute_id = ?")
      .bind(ok[0]?.body.id)
      .first<{ n: number }>();
    expect(comp?.n).toBe(1);
  });

  it("100 refunds racing a dispute's opening and its acceptance: refunds plus the dispute never pass the charge", async () => {
    const charge = await exportedCharge(w);
    const refunds = Array.from({ length: 100 }, () => api("/v1/refunds", { key: w.prov.key, body: { transfer_id: charge, amount: 7 } }));
    const dispute = openDispute(w, { transfer_id: charge, reason: "defective" });
    const [d, ...refunded] = await Promise.all([dispute, ...refunds]);
    if (d.status === 201) expect((await respond(d.body.id, w.prov.key, { accept: true })).status).toBe(200);
    else expect(d.body.code).toBe("nothing_to_dispute");
    await exportNow(w.p.accountId);
    const sum = await DB.prepare("SELECT SUM(amount) AS n FROM transfers WHERE refund_of = ?").bind(charge).first<{ n: number }>();
    expect(sum?.n).toBeLessThanOrEqual(1_000);
    const refundedByHand = refunded.filter((r) => r.status === 201).length * 7;
    expect(sum?.n).toBe(refundedByHand + (d.status === 201 ? d.body.amount : 0));
  });
});
