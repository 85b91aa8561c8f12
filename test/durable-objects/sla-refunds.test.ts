import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RefundInput, Settlement, Transfer } from "../../durable-objects/types";
import { PLATFORM } from "../../core/legs";
import { balanceOf, d1Rows, inLedger, openAccount, reserveInput, reserveOk, type TestAccount } from "./helpers";

async function exportNow(acct: TestAccount): Promise<void> {
  if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
}

const manualRefund = (transferId: string, amount: number | null = null): RefundInput => ({
  actor: "provider:prov_test",
  transferId,
  providerId: "prov_test",
  amount,
  reason: null,
  idempotencyKey: null,
  fingerprint: "",
});

async function journal(acct: TestAccount): Promise<Transfer[]> {
  return (await acct.stub.transfers(100, null)).data.slice().reverse();
}

/** A capture refunded in full as it lands: the Worker measured an SLA breach and sent `refund` with the capture. */
describe("a capture with an SLA breach is refunded in its own transaction", () => {
  it("capture and refund land together; legs sum to zero in D1; nothing is left to refund", async () => {
    const acct = await openAccount(10_000);
    const holdId = await reserveOk(acct, 1_000, { feeBps: 1_000 });
    const res = await acct.stub.capture({ holdId, amount: 700, refund: "sla_breach" });
    if (!res.ok || !res.transfer || !res.refund) throw new Error(`capture failed: ${JSON.stringify(res)}`);
    const cap = res.transfer;
    expect(cap).toMatchObject({ kind: "capture", amount: 700, fee: 70, reason: "origin_succeeded" });
    expect(res.refund).toMatchObject({ kind: "refund", amount: 700, fee: 70, refund_of: cap.id, reason: "sla_breach", request_id: cap.request_id });
    expect(res.refund.seq).toBe(cap.seq + 1);
    // The hold's rest is released and the charge came back: the payer is where it started.
    expect(res.balance).toEqual(balanceOf(10_000, 0));
    expect(await acct.stub.balance()).toEqual(balanceOf(10_000, 0));

    const audit = (await acct.stub.auditEvents(100, null)).data.filter((e: any) => e.request_id === cap.request_id);
    expect(audit.map((e: any) => [e.event, e.actor, e.amount])).toEqual(
      expect.arrayContaining([
        ["capture", `agent:${acct.keyId}`, 700],
        ["refund", "system", 700],
      ]),
    );
    expect(audit.find((e: any) => e.event === "refund")?.reason).toBe(`${cap.id}: sla_breach`);

    await exportNow(acct);
    const { transfers, legs } = await d1Rows(acct.id);
    expect(transfers.map((t) => [t.kind, t.amount])).toEqual([
      ["credit", 10_000],
      ["capture", 700],
      ["refund", 700],
    ]);
    for (const seq of [1, 2, 3]) expect(legs.filter((l) => l.seq === seq).reduce((n, l) => n + l.amount, 0)).toBe(0);
    expect(legs.filter((l) => l.seq === 3).map((l) => [l.ledger_account, l.amount])).toEqual([
      [acct.id, 700],
      ["prov_test", -630],
      [PLATFORM, -70],
    ]);
    const net = (who: string) => legs.filter((l) => l.ledger_account === who && l.seq >= 2).reduce((n, l) => n + l.amount, 0);
    expect([net(acct.id), net("prov_test"), net(PLATFORM)]).toEqual([0, 0, 0]);

    // A later manual refund finds nothing left (I5).
    expect(await acct.stub.refund(manualRefund(cap.id, 1))).toEqual({ ok: false, code: "refund_exceeds_charge", refundable: 0 });
    expect(await acct.stub.refund(manualRefund(cap.id))).toEqual({ ok: false, code: "refund_exceeds_charge", refundable: 0 });
  });

  it("if the refund cannot be written, the capture is not written either (one transaction)", async () => {
    const acct = await openAccount(5_000);
    const holdId = await reserveOk(acct, 500);
    await inLedger(acct.stub, (_i, state) =>
      state.storage.sql.exec("CREATE TRIGGER test_no_refunds BEFORE INSERT ON transfers WHEN NEW.kind = 'refund' BEGIN SELECT RAISE(ABORT, 'no refunds'); END"),
    );
    // Called inside the object, so the thrown error is caught here rather than crossing the RPC boundary.
    const failed = await inLedger(acct.stub, (instance) => instance.capture({ holdId, amount: 500, refund: "sla_breach" }).then(String, String));
    expect(failed).toMatch(/no refunds/);
    expect(await acct.stub.balance()).toEqual(balanceOf(5_000, 500));
    expect((await journal(acct)).map((t) => t.kind)).toEqual(["credit"]);
    expect(await acct.stub.hold(holdId)).toMatchObject({ state: "pending" });

    await inLedger(acct.stub, (_i, state) => state.storage.sql.exec("DROP TRIGGER test_no_refunds"));
    expect(await acct.stub.capture({ holdId, amount: 500, refund: "sla_breach" })).toMatchObject({ ok: true, refund: { amount: 500 } });
    expect((await journal(acct)).map((t) => t.kind)).toEqual(["credit", "capture", "refund"]);
  });

  it("a zero-amount capture gets no refund; a capture without a breach gets none", async () => {
    const acct = await openAccount(5_000);
    const zero = await acct.stub.capture({ holdId: await reserveOk(acct, 300), amount: 0, refund: "sla_breach" });
    expect(zero).toMatchObject({ ok: true, transfer: null });
    expect(zero.ok && "refund" in zero).toBe(false);
    const plain = await acct.stub.capture({ holdId: await reserveOk(acct, 300), amount: 300 });
    expect(plain.ok && "refund" in plain).toBe(false);
    expect((await journal(acct)).map((t) => t.kind)).toEqual(["credit", "capture"]);
    expect(await acct.stub.balance()).toEqual(balanceOf(4_700, 0));
  });

  it("queued settlements: a breach refunds its own capture only, and a resent settlement refunds nothing more", async () => {
    const acct = await openAccount(10_000);
    const [a, b] = [await reserveOk(acct, 400), await reserveOk(acct, 400)];
    const batch: Settlement[] = [
      { holdId: a, amount: 400, detail: {}, refund: "sla_breach" },
      { holdId: b, amount: 250, detail: {} },
    ];
    expect(await acct.stub.settle(batch)).toEqual([
      { hold_id: a, ok: true },
      { hold_id: b, ok: true },
    ]);
    // The same batch again (a retry after a lost answer): both holds are already captured.
    expect(await acct.stub.settle(batch)).toEqual([
      { hold_id: a, ok: true },
      { hold_id: b, ok: true },
    ]);
    const kinds = (await journal(acct)).map((t) => [t.kind, t.amount, t.hold_id ?? t.refund_of]);
    const capA = (await journal(acct)).find((t) => t.hold_id === a) as Transfer;
    expect(kinds).toEqual([
      ["credit", 10_000, null],
      ["capture", 400, a],
      ["refund", 400, capA.id],
      ["capture", 250, b],
    ]);
    expect(await acct.stub.balance()).toEqual(balanceOf(9_750, 0));
  });

  it("race: many breached captures sent at once, each resent, are refunded exactly once each", async () => {
    const acct = await openAccount(100_000);
    const holds = await Promise.all(Array.from({ length: 12 }, () => reserveOk(acct, 1_000, { feeBps: 333 })));
    const sends = holds.flatMap((holdId, i) => {
      const s: Settlement = { holdId, amount: 500 + i, detail: {}, refund: "sla_breach" };
      return [acct.stub.settle([s]), acct.stub.settleThenReserve([s], reserveInput(acct.keyHash, 1)), acct.stub.capture({ ...s })];
    });
    await Promise.all(sends);
    const all = await journal(acct);
    const captures = all.filter((t) => t.kind === "capture");
    const refunds = all.filter((t) => t.kind === "refund");
    expect(captures).toHaveLength(12);
    expect(refunds).toHaveLength(12);
    for (const cap of captures) {
      const mine = refunds.filter((r) => r.refund_of === cap.id);
      expect(mine.map((r) => [r.amount, r.fee])).toEqual([[cap.amount, cap.fee]]);
    }
    // Only the 12 reserves of 1 that rode along are pending; nothing was charged.
    expect(await acct.stub.balance()).toEqual(balanceOf(100_000, 12));
    await exportNow(acct);
    const { legs } = await d1Rows(acct.id);
    expect(legs.reduce((n, l) => n + l.amount, 0)).toBe(0);
    expect(legs.filter((l) => l.ledger_account === acct.id && l.seq > 1).reduce((n, l) => n + l.amount, 0)).toBe(0);
  });
});
