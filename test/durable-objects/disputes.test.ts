import { describe, expect, it } from "vitest";
import type { OpenDisputeInput } from "../../durable-objects/dispute-types";
import { MIGRATIONS } from "../../durable-objects/schema";
import type { Transfer } from "../../durable-objects/types";
import { balanceOf, inLedger, ledger, newAccountId, openAccount, reserveOk, sleep, type TestAccount } from "./helpers";

async function charge(acct: TestAccount, amount: number, feeBps = 0): Promise<Transfer> {
  const holdId = await reserveOk(acct, amount, { feeBps });
  const res = await acct.stub.capture({ holdId, amount });
  if (!res.ok || !res.transfer) throw new Error(`capture failed: ${JSON.stringify(res)}`);
  return res.transfer;
}

const open = (transferId: string, over: Partial<OpenDisputeInput> = {}): OpenDisputeInput => ({
  actor: "owner",
  transferId,
  reason: "unauthorized",
  detail: null,
  compensationLimit: 1_000_000,
  windowMs: 60 * 86_400_000,
  ...over,
});

describe("disputes in the ledger (I14)", () => {
  it("a charge older than the window is past disputing, and nothing moves", async () => {
    const acct = await openAccount(5_000);
    const cap = await charge(acct, 500);
    await sleep(5);
    expect(await acct.stub.openDispute(open(cap.id, { windowMs: 1 }))).toEqual({ ok: false, code: "dispute_window_closed" });
    expect(await acct.stub.balance()).toEqual(balanceOf(4_500, 0));
  });

  it("compensation is the disputed amount, capped by the limit; a limit of 0 compensates nothing", async () => {
    const acct = await openAccount(5_000);
    const [a, b] = [await charge(acct, 500), await charge(acct, 500)];
    const capped = await acct.stub.openDispute(open(a.id, { compensationLimit: 120 }));
    expect(capped).toMatchObject({ ok: true, dispute: { amount: 500, compensated: 120 }, balance: balanceOf(4_120, 0) });
    const none = await acct.stub.openDispute(open(b.id, { compensationLimit: 0 }));
    expect(none).toMatchObject({ ok: true, dispute: { amount: 500, compensated: 0 } });
    const kinds = (await acct.stub.transfers(10, null)).data.map((t) => t.kind);
    expect(kinds.filter((k) => k === "compensation")).toHaveLength(1);
  });

  it("the storage refuses to change a final dispute, whatever the code above it does", async () => {
    const acct = await openAccount(5_000);
    const cap = await charge(acct, 500);
    const d = await acct.stub.openDispute(open(cap.id, { reason: "defective" }));
    if (!d.ok) throw new Error("open failed");
    expect(await acct.stub.resolveDispute({ actor: "operator", disputeId: d.dispute.id, winner: "provider" })).toMatchObject({
      ok: true,
      dispute: { status: "won_by_provider" },
    });
    const forged = await inLedger(acct.stub, (_i, state) =>
      ["UPDATE disputes SET status = 'won_by_payer'", "UPDATE disputes SET resolved_at = 0", "DELETE FROM disputes"].map((q) => {
        try {
          state.storage.sql.exec(q);
          return "accepted";
        } catch (err) {
          return String(err).includes("never") ? "refused" : String(err);
        }
      }),
    );
    expect(forged).toEqual(["refused", "refused", "refused"]);
  });

  it("carries a v8 journal over unchanged into v9, and refuses a compensation that names no dispute", async () => {
    const stub = ledger(newAccountId());
    const out = await inLedger(stub, (_i, state) => {
      const sql = state.storage.sql;
      for (const step of MIGRATIONS.slice(0, 8)) sql.exec(step);
      sql.exec("INSERT INTO transfers (seq, id, kind, amount, fee, provider_id, created_at) VALUES (1, 'tr_a', 'credit', 500, 0, NULL, 1)");
      sql.exec("INSERT INTO transfers (seq, id, kind, amount, fee, provider_id, created_at) VALUES (2, 'tr_b', 'capture', 100, 3, 'p', 2)");
      sql.exec("INSERT INTO transfers (seq, id, kind, amount, fee, provider_id, created_at, refund_of) VALUES (3, 'rf_c', 'refund', 40, 1, 'p', 3, 'tr_b')");
      sql.exec(MIGRATIONS[8] as string);
      let refused = "";
      try {
        sql.exec("INSERT INTO transfers (seq, id, kind, amount, created_at) VALUES (4, 'cp_d', 'compensation', 1, 4)");
      } catch (err) {
        refused = String(err);
      }
      return { rows: sql.exec("SELECT seq, id, kind, amount, fee, refund_of, dispute_id FROM transfers ORDER BY seq").toArray(), refused };
    });
    expect(out.rows).toEqual([
      { seq: 1, id: "tr_a", kind: "credit", amount: 500, fee: 0, refund_of: null, dispute_id: null },
      { seq: 2, id: "tr_b", kind: "capture", amount: 100, fee: 3, refund_of: null, dispute_id: null },
      { seq: 3, id: "rf_c", kind: "refund", amount: 40, fee: 1, refund_of: "tr_b", dispute_id: null },
    ]);
    expect(out.refused).toMatch(/CHECK/);
  });

  it("a payer who spent the compensation still ends with the disputed amount once when it wins", async () => {
    const acct = await openAccount(1_000);
    const cap = await charge(acct, 1_000, 1_000); // the whole balance, 10% fee
    const d = await acct.stub.openDispute(open(cap.id));
    if (!d.ok) throw new Error("open failed");
    await charge(acct, 1_000); // the compensation is spent at once
    expect(await acct.stub.balance()).toEqual(balanceOf(0, 0));
    const won = await acct.stub.resolveDispute({ actor: "operator", disputeId: d.dispute.id, winner: "payer" });
    expect(won).toMatchObject({ ok: true, dispute: { status: "won_by_payer" } });
    // +1000 refund −1000 repayment: nothing owed, nothing overdrawn (I2).
    expect(await acct.stub.balance()).toEqual(balanceOf(0, 0));
  });
});
