import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RefundInput, Transfer } from "../../durable-objects/types";
import { MIGRATIONS } from "../../durable-objects/schema";
import { PLATFORM } from "../../core/legs";
import { balanceOf, d1Rows, forgedWrites, inLedger, ledger, newAccountId, openAccount, reserveOk, type TestAccount } from "./helpers";

/** Captures a call of `amount` (fee at `feeBps`) for prov_test and returns its transfer. */
async function charge(acct: TestAccount, amount: number, feeBps = 0): Promise<Transfer> {
  const holdId = await reserveOk(acct, amount, { feeBps });
  const res = await acct.stub.capture({ holdId, amount });
  if (!res.ok || !res.transfer) throw new Error(`capture failed: ${JSON.stringify(res)}`);
  return res.transfer;
}

const refund = (transferId: string, over: Partial<RefundInput> = {}): RefundInput => ({
  actor: "provider:prov_test",
  transferId,
  providerId: "prov_test",
  amount: null,
  reason: null,
  idempotencyKey: null,
  fingerprint: "",
  ...over,
});

async function exportNow(acct: TestAccount): Promise<void> {
  if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
}

describe("refunds are bounded by their charge (I5)", () => {
  it("a partial refund, then the rest by default, then nothing more", async () => {
    const acct = await openAccount(10_000);
    const cap = await charge(acct, 1_000);
    const first = await acct.stub.refund(refund(cap.id, { amount: 300, reason: "bad answer" }));
    expect(first).toMatchObject({ ok: true, replayed: false, transfer: { kind: "refund", amount: 300, refund_of: cap.id, reason: "bad answer" } });
    expect(first.ok && first.transfer.id).toMatch(/^rf_[0-9a-z]{20}$/);
    expect(await acct.stub.balance()).toEqual(balanceOf(9_300, 0));
    const rest = await acct.stub.refund(refund(cap.id));
    expect(rest).toMatchObject({ ok: true, transfer: { amount: 700, request_id: cap.request_id, service_id: cap.service_id } });
    expect(await acct.stub.balance()).toEqual(balanceOf(10_000, 0));
    expect(await acct.stub.refund(refund(cap.id, { amount: 1 }))).toEqual({ ok: false, code: "refund_exceeds_charge", refundable: 0 });
    expect(await acct.stub.refund(refund(cap.id))).toEqual({ ok: false, code: "refund_exceeds_charge", refundable: 0 });
  });

  it("more than is left is refused and changes nothing", async () => {
    const acct = await openAccount(5_000);
    const cap = await charge(acct, 500);
    expect((await acct.stub.refund(refund(cap.id, { amount: 200 }))).ok).toBe(true);
    expect(await acct.stub.refund(refund(cap.id, { amount: 301 }))).toEqual({ ok: false, code: "refund_exceeds_charge", refundable: 300 });
    expect(await acct.stub.balance()).toEqual(balanceOf(4_700, 0));
  });

  it("credits, refunds, unknown ids and another provider's charges are not refundable", async () => {
    const acct = await openAccount(5_000);
    const topUp = (await acct.stub.transfers(10, null)).data.find((t) => t.kind === "credit") as Transfer;
    const cap = await charge(acct, 500);
    const rf = await acct.stub.refund(refund(cap.id, { amount: 10 }));
    if (!rf.ok) throw new Error("refund failed");
    expect(await acct.stub.refund(refund(topUp.id, { actor: "operator", providerId: null }))).toEqual({ ok: false, code: "not_refundable" });
    expect(await acct.stub.refund(refund(rf.transfer.id))).toEqual({ ok: false, code: "not_refundable" });
    expect(await acct.stub.refund(refund("tr_nothere"))).toEqual({ ok: false, code: "not_found" });
    expect(await acct.stub.refund(refund(cap.id, { actor: "provider:prov_other", providerId: "prov_other" }))).toEqual({ ok: false, code: "not_found" });
    expect((await acct.stub.refund(refund(cap.id, { actor: "operator", providerId: null, amount: 5 }))).ok).toBe(true);
    expect(await acct.stub.balance()).toEqual(balanceOf(4_515, 0));
  });

  it("refuses amounts that are not positive integers below 2^53 (I11)", async () => {
    const acct = await openAccount(5_000);
    const cap = await charge(acct, 500);
    for (const amount of [0, -1, 1.5, 2 ** 53, Number.NaN]) {
      expect(await acct.stub.refund(refund(cap.id, { amount }))).toEqual({ ok: false, code: "invalid_amount" });
    }
    expect(await acct.stub.balance()).toEqual(balanceOf(4_500, 0));
  });

  it("an account that was never opened has nothing to refund", async () => {
    expect(await ledger(newAccountId()).refund(refund("tr_x"))).toEqual({ ok: false, code: "not_found" });
  });

  it("200 concurrent refunds of one charge never sum past it", async () => {
    const acct = await openAccount(10_000);
    const cap = await charge(acct, 1_000, 250);
    const results = await Promise.all(Array.from({ length: 200 }, () => acct.stub.refund(refund(cap.id, { amount: 7 }))));
    const ok = results.filter((r) => r.ok);
    expect(ok).toHaveLength(142);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === "refund_exceeds_charge")).toBe(true);
    expect(await acct.stub.balance()).toEqual(balanceOf(9_000 + 994, 0));
    const fees = ok.reduce((n, r) => n + (r.ok ? r.transfer.fee : 0), 0);
    expect(fees).toBeLessThanOrEqual(cap.fee);
    expect(fees).toBe(Math.floor((cap.fee * 994) / 1_000));
  });
});

describe("idempotent refunds (I3)", () => {
  it("the same key and body replays; another body is a mismatch; keys are per caller", async () => {
    const acct = await openAccount(5_000);
    const cap = await charge(acct, 500);
    const first = await acct.stub.refund(refund(cap.id, { amount: 100, idempotencyKey: "k1", fingerprint: "a" }));
    const again = await acct.stub.refund(refund(cap.id, { amount: 100, idempotencyKey: "k1", fingerprint: "a" }));
    expect(again).toEqual({ ...first, replayed: true });
    expect(await acct.stub.refund(refund(cap.id, { amount: 101, idempotencyKey: "k1", fingerprint: "b" }))).toEqual({
      ok: false,
      code: "idempotency_mismatch",
    });
    const operator = await acct.stub.refund(refund(cap.id, { actor: "operator", providerId: null, amount: 100, idempotencyKey: "k1", fingerprint: "b" }));
    expect(operator).toMatchObject({ ok: true, replayed: false });
    expect(await acct.stub.balance()).toEqual(balanceOf(4_700, 0));
  });
});

describe("a refund's record", () => {
  it("writes an audit event with the actor in the same transaction", async () => {
    const acct = await openAccount(5_000);
    const cap = await charge(acct, 500);
    await acct.stub.refund(refund(cap.id, { amount: 50, reason: "sla" }));
    await acct.stub.refund(refund(cap.id, { actor: "operator", providerId: null, amount: 25 }));
    const events = (await acct.stub.auditEvents(100, null)).data.filter((e) => e.event === "refund");
    expect(events.map((e) => [e.actor, e.amount, e.reason, e.request_id])).toEqual([
      ["operator", 25, `${cap.id}: refund`, cap.request_id],
      ["provider:prov_test", 50, `${cap.id}: sla`, cap.request_id],
    ]);
  });

  it("exports legs that reverse the capture's, fee returned in proportion, rounded down on the running total", async () => {
    const acct = await openAccount(10_000);
    const cap = await charge(acct, 1_000, 333); // fee 33
    expect(cap.fee).toBe(33);
    const parts: number[] = [];
    for (const amount of [333, 333, 334]) {
      const r = await acct.stub.refund(refund(cap.id, { amount }));
      parts.push(r.ok ? r.transfer.fee : -1);
    }
    expect(parts).toEqual([10, 11, 12]); // floor(33·333/1000), floor(33·666/1000) − 10, 33 − 21
    await exportNow(acct);
    const { transfers, legs } = await d1Rows(acct.id);
    expect(transfers.map((t) => t.kind)).toEqual(["credit", "capture", "refund", "refund", "refund"]);
    const refundLegs = legs.filter((l) => l.seq >= 3).map((l) => [l.seq, l.ledger_account, l.amount]);
    expect(refundLegs).toEqual([
      [3, acct.id, 333],
      [3, "prov_test", -323],
      [3, PLATFORM, -10],
      [4, acct.id, 333],
      [4, "prov_test", -322],
      [4, PLATFORM, -11],
      [5, acct.id, 334],
      [5, "prov_test", -322],
      [5, PLATFORM, -12],
    ]);
    // Every transfer balances, and after a full refund everyone is back where they started.
    for (const seq of [1, 2, 3, 4, 5]) expect(legs.filter((l) => l.seq === seq).reduce((n, l) => n + l.amount, 0)).toBe(0);
    const by = (who: string) => legs.filter((l) => l.ledger_account === who && l.seq >= 2).reduce((n, l) => n + l.amount, 0);
    expect([by(acct.id), by("prov_test"), by(PLATFORM)]).toEqual([0, 0, 0]);
    const row = await acct.stub.transfers(1, null);
    expect(row.data[0]).toMatchObject({ kind: "refund", refund_of: cap.id });
    const d1 = await acct.stub.exportCursor();
    expect(d1).toEqual({ exported_seq: 5, journal_seq: 5 });
  });
});

describe("schema v8 (refunds)", () => {
  it("keeps the journal append-only", async () => {
    const acct = await openAccount(1_000);
    const cap = await charge(acct, 100);
    await acct.stub.refund(refund(cap.id, { amount: 10 }));
    const forged = await forgedWrites(acct.stub, [
      "UPDATE transfers SET amount = 1 WHERE kind = 'refund'",
      "DELETE FROM transfers WHERE kind = 'refund'",
      `INSERT OR REPLACE INTO transfers (seq, id, kind, amount, created_at, refund_of) VALUES (3, 'rf_x', 'refund', 90, 0, '${cap.id}')`,
    ]);
    expect(forged).toEqual(["refused", "refused", "refused"]);
  });

  it("carries a v7 journal over unchanged, and refuses a refund row without its capture", async () => {
    const stub = ledger(newAccountId()); // never opened: the constructor migrates nothing
    const rows = await inLedger(stub, (_i, state) => {
      const sql = state.storage.sql;
      for (const step of MIGRATIONS.slice(0, 7)) sql.exec(step);
      sql.exec("INSERT INTO transfers (seq, id, kind, amount, fee, provider_id, created_at, tags) VALUES (1, 'tr_a', 'credit', 500, 0, NULL, 1, NULL)");
      sql.exec(
        "INSERT INTO transfers (seq, id, kind, amount, fee, provider_id, created_at, tags) VALUES (2, 'tr_b', 'capture', 100, 3, 'p', 2, '{\"t\":\"1\"}')",
      );
      sql.exec(MIGRATIONS[7] as string);
      let refused = "";
      try {
        sql.exec("INSERT INTO transfers (seq, id, kind, amount, created_at) VALUES (3, 'rf_y', 'refund', 1, 3)");
      } catch (err) {
        refused = String(err);
      }
      return { rows: sql.exec("SELECT seq, id, kind, amount, fee, provider_id, tags, refund_of FROM transfers ORDER BY seq").toArray(), refused };
    });
    expect(rows.rows).toEqual([
      { seq: 1, id: "tr_a", kind: "credit", amount: 500, fee: 0, provider_id: null, tags: null, refund_of: null },
      { seq: 2, id: "tr_b", kind: "capture", amount: 100, fee: 3, provider_id: "p", tags: '{"t":"1"}', refund_of: null },
    ]);
    expect(rows.refused).toMatch(/CHECK/);
  });
});
