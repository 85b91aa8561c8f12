import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CreditInput } from "../../durable-objects/types";
import { EXTERNAL, PLATFORM } from "../../core/legs";
import { balanceOf, d1Rows, d1Sum, exportState, forgedWrites, inLedger, openAccount, reserveOk, sleep, testEnv, type TestAccount } from "./helpers";

const credit = (amount: number, idempotencyKey: string | null = null, fingerprint = ""): CreditInput => ({
  actor: "operator",
  amount,
  reference: "top-up",
  idempotencyKey,
  fingerprint,
});

/** A journal of every kind of step: credits, full/partial/zero captures, a void, an expiry. */
async function busyAccount(): Promise<TestAccount> {
  const acct = await openAccount(10_000); // seq 1
  await acct.stub.credit(credit(2_500)); // seq 2
  const a = await reserveOk(acct, 1_000);
  const b = await reserveOk(acct, 700, { providerId: "prov_other" });
  const c = await reserveOk(acct, 300);
  const d = await reserveOk(acct, 50, { ttlMs: 1 });
  expect((await acct.stub.capture({ holdId: a, amount: 1_000 })).ok).toBe(true); // seq 3
  expect((await acct.stub.capture({ holdId: b, amount: 321 })).ok).toBe(true); // seq 4
  expect((await acct.stub.capture({ holdId: c, amount: 0 })).ok).toBe(true); // no transfer
  await sleep(5);
  await inLedger(acct.stub, (instance) => instance.alarm()); // expires d, exports 1..4
  expect((await acct.stub.hold(d))?.state).toBe("expired");
  const e = await reserveOk(acct, 10);
  expect((await acct.stub.release({ holdId: e, reason: "origin_failed" })).ok).toBe(true); // no transfer
  await acct.stub.credit(credit(1)); // seq 5
  expect(await acct.stub.balance()).toEqual(balanceOf(12_500 - 1_321 + 1, 0));
  return acct;
}

async function journal(acct: TestAccount) {
  return (await acct.stub.transfers(1_000, null)).data.reverse();
}

/** Runs the scheduled alarm, or the alarm handler itself if none is due (it is idempotent). */
async function exportNow(acct: TestAccount): Promise<void> {
  if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
}

describe("idempotent credit (I3, I12)", () => {
  it("the same key and fingerprint replays the first transfer and moves no money", async () => {
    const acct = await openAccount();
    const first = await acct.stub.credit(credit(700, "k1", "fp-a"));
    expect(first).toMatchObject({ ok: true, replayed: false, transfer: { kind: "credit", amount: 700, seq: 1 } });
    const again = await acct.stub.credit(credit(700, "k1", "fp-a"));
    expect(again).toEqual({ ...first, replayed: true });
    expect(await acct.stub.balance()).toEqual(balanceOf(700, 0));
    expect(await journal(acct)).toHaveLength(1);
  });

  it("the same key with another fingerprint is refused and changes nothing", async () => {
    const acct = await openAccount();
    expect((await acct.stub.credit(credit(700, "k1", "fp-a"))).ok).toBe(true);
    expect(await acct.stub.credit(credit(900, "k1", "fp-b"))).toEqual({ ok: false, code: "idempotency_mismatch" });
    expect(await acct.stub.credit(credit(700, "k1", "fp-b"))).toEqual({ ok: false, code: "idempotency_mismatch" });
    expect(await acct.stub.balance()).toEqual(balanceOf(700, 0));
    expect(await journal(acct)).toHaveLength(1);
    // Another key is a new credit.
    expect(await acct.stub.credit(credit(900, "k2", "fp-b"))).toMatchObject({ ok: true, replayed: false });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_600, 0));
  });

  it("the same key sent 50 times at once makes one transfer", async () => {
    const acct = await openAccount();
    const results = await Promise.all(Array.from({ length: 50 }, () => acct.stub.credit(credit(333, "burst", "fp"))));
    const ok = results.filter((r) => r.ok);
    expect(ok).toHaveLength(50);
    expect(ok.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(ok.map((r) => r.transfer.id)).size).toBe(1);
    expect(await acct.stub.balance()).toEqual(balanceOf(333, 0));
    expect(await journal(acct)).toHaveLength(1);
  });
});

describe("the journal", () => {
  it("is numbered 1..N without gaps (I8), and pages by seq", async () => {
    const acct = await busyAccount();
    const all = await journal(acct);
    expect(all.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.map((t) => [t.kind, t.amount])).toEqual([
      ["credit", 10_000],
      ["credit", 2_500],
      ["capture", 1_000],
      ["capture", 321],
      ["credit", 1],
    ]);
    const page1 = await acct.stub.transfers(2, null);
    expect(page1.data.map((t) => t.seq)).toEqual([5, 4]);
    const page2 = await acct.stub.transfers(2, Number(page1.next_cursor));
    expect(page2.data.map((t) => t.seq)).toEqual([3, 2]);
    const page3 = await acct.stub.transfers(2, Number(page2.next_cursor));
    expect(page3).toMatchObject({ data: [{ seq: 1 }], next_cursor: null });
  });

  it("refuses UPDATE and DELETE (I5)", async () => {
    const acct = await openAccount(1_000);
    await acct.stub.credit(credit(5));
    const before = await journal(acct);
    await inLedger(acct.stub, (_i, state) => {
      const sql = state.storage.sql;
      expect(() => sql.exec("UPDATE transfers SET amount = amount + 1")).toThrow(/append-only/);
      expect(() => sql.exec("UPDATE transfers SET kind = 'capture' WHERE seq = 1")).toThrow(/append-only/);
      expect(() => sql.exec("DELETE FROM transfers WHERE seq = 2")).toThrow(/append-only/);
      expect(() => sql.exec("DELETE FROM transfers")).toThrow(/append-only/);
    });
    expect(await journal(acct)).toEqual(before);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_005, 0));
  });

  it("cannot be rewritten by a REPLACE or grow a gap (I5, I8)", async () => {
    const acct = await openAccount(1_000);
    await acct.stub.credit(credit(5));
    const before = await journal(acct);
    const first = before[0]!;
    const attempts = [
      // REPLACE deletes the conflicting row without firing DELETE triggers (no recursive_triggers).
      "INSERT OR REPLACE INTO transfers (seq, id, kind, amount, created_at) VALUES (1, 'tr_forged', 'credit', 9, 0)",
      `REPLACE INTO transfers (seq, id, kind, amount, created_at) VALUES (3, '${first.id}', 'credit', 9, 0)`,
      "INSERT INTO transfers (seq, id, kind, amount, created_at) VALUES (7, 'tr_gap', 'credit', 9, 0)",
    ];
    const errors = await forgedWrites(acct.stub, attempts);
    expect(errors).toEqual(["refused", "refused", "refused"]);
    expect(await journal(acct)).toEqual(before);
  });
});

describe("export to D1 (I1, I7)", () => {
  it("lands every transfer exactly once, with legs that sum to zero", async () => {
    const acct = await busyAccount();
    await exportNow(acct);
    const dj = await journal(acct);
    expect(await exportState(acct.stub)).toEqual({ exported: 5, journal: 5 });
    const { transfers, legs } = await d1Rows(acct.id);
    // D1 has exactly the DO's journal: nothing missing, nothing extra.
    expect(transfers).toEqual(dj.map((t) => ({ seq: t.seq, id: t.id, kind: t.kind, amount: t.amount })));
    for (const t of transfers) {
      const own = legs.filter((l) => l.seq === t.seq);
      expect(own.every((l) => l.transfer_id === t.id)).toBe(true);
      expect(own.reduce((s, l) => s + l.amount, 0)).toBe(0);
    }
    expect(legs.map((l) => [l.seq, l.ledger_account, l.amount])).toEqual([
      [1, EXTERNAL, -10_000],
      [1, acct.id, 10_000],
      [2, EXTERNAL, -2_500],
      [2, acct.id, 2_500],
      [3, acct.id, -1_000],
      [3, "prov_test", 1_000],
      [4, acct.id, -321],
      [4, "prov_other", 321],
      [5, EXTERNAL, -1],
      [5, acct.id, 1],
    ]);
    const posted = (await acct.stub.balance())!.posted;
    expect(await d1Sum(acct.id)).toBe(posted);
    expect(await d1Sum()).toBe(0);
  });

  it("exports a journal longer than one batch, gapless in D1 (I8)", async () => {
    const acct = await openAccount(1); // seq 1
    for (let i = 0; i < 249; i++) await acct.stub.credit(credit(1)); // seq 2..250
    await exportNow(acct);
    expect(await exportState(acct.stub)).toEqual({ exported: 250, journal: 250 });
    const { transfers, legs } = await d1Rows(acct.id);
    expect(transfers.map((t) => t.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(legs).toHaveLength(500);
    expect(await d1Sum(acct.id)).toBe(250);
    expect(await d1Sum()).toBe(0);
  });

  it("delivered twice, or re-sent from the start, lands nothing twice", async () => {
    const acct = await busyAccount();
    await exportNow(acct);
    const snapshot = async () => ({
      transfers: (await testEnv.DB.prepare("SELECT * FROM transfers WHERE account_id = ? ORDER BY seq").bind(acct.id).all()).results,
      legs: (await testEnv.DB.prepare("SELECT * FROM ledger_entries WHERE account_id = ? ORDER BY seq, leg").bind(acct.id).all()).results,
    });
    const first = await snapshot();
    expect(first.transfers).toHaveLength(5);
    expect(first.legs).toHaveLength(10);

    await inLedger(acct.stub, (instance) => instance.alarm());
    await runDurableObjectAlarm(acct.stub);
    expect(await snapshot()).toEqual(first);

    // As if the DO died after D1 committed but before the cursor moved: everything is re-sent.
    for (const cursor of [0, 3]) {
      await inLedger(acct.stub, async (_i, state) => {
        state.storage.sql.exec("UPDATE export_state SET exported_seq = ? WHERE id = 1", cursor);
        await state.storage.setAlarm(Date.now() + 60_000); // far enough not to fire on its own
      });
      expect(await runDurableObjectAlarm(acct.stub)).toBe(true);
      expect(await exportState(acct.stub)).toEqual({ exported: 5, journal: 5 });
      expect(await snapshot()).toEqual(first);
    }
    expect(await d1Sum(acct.id)).toBe((await acct.stub.balance())!.posted);
    expect(await d1Sum()).toBe(0);
  });

  it("when D1 fails, keeps the cursor, lands nothing partial, and catches up later (I6, I7)", async () => {
    const acct = await openAccount(900);
    const hold = await reserveOk(acct, 400);
    expect((await acct.stub.capture({ holdId: hold, amount: 400 })).ok).toBe(true);
    await testEnv.DB.exec("ALTER TABLE ledger_entries RENAME TO ledger_entries_off");
    try {
      await exportNow(acct);
      expect(await exportState(acct.stub)).toEqual({ exported: 0, journal: 2 });
      // The batch is atomic: no transfer row landed without its legs.
      const landed = await testEnv.DB.prepare("SELECT COUNT(*) AS n FROM transfers WHERE account_id = ?").bind(acct.id).first<{ n: number }>();
      expect(landed?.n).toBe(0);
      // A retry is scheduled.
      expect(await inLedger(acct.stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    } finally {
      await testEnv.DB.exec("ALTER TABLE ledger_entries_off RENAME TO ledger_entries");
    }
    await exportNow(acct);
    expect(await exportState(acct.stub)).toEqual({ exported: 2, journal: 2 });
    const { transfers, legs } = await d1Rows(acct.id);
    expect(transfers.map((t) => [t.seq, t.kind, t.amount])).toEqual([
      [1, "credit", 900],
      [2, "capture", 400],
    ]);
    expect(legs).toHaveLength(4);
    expect(await d1Sum(acct.id)).toBe(500);
    expect(await d1Sum()).toBe(0);
  });

  it("splits a capture with a platform fee into payer, provider and platform legs", async () => {
    const acct = await openAccount(20_000);
    const platformBefore = await d1Sum(PLATFORM);
    const hold = await reserveOk(acct, 12_345, { feeBps: 250, providerId: "prov_fee" });
    const res = await acct.stub.capture({ holdId: hold, amount: 9_999 });
    // floor(9_999 × 250 / 10_000) = floor(249.975) = 249
    expect(res.ok && res.transfer).toMatchObject({ kind: "capture", amount: 9_999, fee: 249, provider_id: "prov_fee" });
    expect(await acct.stub.balance()).toEqual(balanceOf(10_001, 0));
    await exportNow(acct);
    const { legs } = await d1Rows(acct.id);
    expect(legs.filter((l) => l.seq === 2).map((l) => [l.leg, l.ledger_account, l.amount])).toEqual([
      [0, acct.id, -9_999],
      [1, "prov_fee", 9_750],
      [2, PLATFORM, 249],
    ]);
    expect(await d1Sum("prov_fee")).toBe(9_750);
    expect((await d1Sum(PLATFORM)) - platformBefore).toBe(249);
    expect(await d1Sum(acct.id)).toBe(10_001);
    expect(await d1Sum()).toBe(0);
  });
});
