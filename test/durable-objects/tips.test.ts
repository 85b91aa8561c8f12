/**
 * Tips at the ledger's boundary (durable-objects/tips.ts): the ledger refuses a bad amount or fee
 * whoever calls it (I11), a tip never overdraws the account even against pending holds (I2), an
 * account never opened writes nothing, and a tip's journal transfer and legs are those of legsOf.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TipInput } from "../../durable-objects/types";
import { balanceOf, d1Rows, inLedger, ledger, newAccountId, openAccount, reserveOk, type TestAccount } from "./helpers";

const tipInput = (over: Partial<TipInput> = {}): TipInput => ({
  keyHash: null,
  serviceId: "svc_test",
  serviceSlug: "test",
  providerId: "prov_test",
  currency: "USD",
  feeBps: 0,
  amount: 100,
  message: null,
  idempotencyKey: null,
  fingerprint: "",
  ...over,
});

async function exportNow(acct: TestAccount): Promise<void> {
  if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
}

describe("tips in the ledger", () => {
  it("refuses a bad amount or fee (zero, negative, fractional, past 2^53, fee past 10000 bps) and changes nothing", async () => {
    const acct = await openAccount(10_000);
    for (const over of [{ amount: 0 }, { amount: -1 }, { amount: 1.5 }, { amount: 2 ** 53 }, { amount: Number.NaN }, { feeBps: 10_001 }, { feeBps: -1 }]) {
      expect(await acct.stub.tip(tipInput(over)), JSON.stringify(over)).toEqual({ ok: false, code: "invalid_amount" });
    }
    expect(await acct.stub.balance()).toEqual(balanceOf(10_000, 0));
  });

  it("counts pending holds: a tip may take only what is available", async () => {
    const acct = await openAccount(1_000);
    await reserveOk(acct, 700);
    expect(await acct.stub.tip(tipInput({ amount: 301 }))).toEqual({ ok: false, code: "insufficient_funds", price: 301, available: 300, currency: "USD" });
    expect(await acct.stub.tip(tipInput({ amount: 300, keyHash: acct.keyHash }))).toMatchObject({ ok: true, transfer: { agent_key_id: acct.keyId } });
    expect(await acct.stub.balance()).toEqual(balanceOf(700, 700));
  });

  it("an account never opened: an agent key is invalid, the owner's tip finds no account; nothing is written", async () => {
    const stub = ledger(newAccountId());
    expect(await stub.tip(tipInput({ keyHash: "hash_made_up" }))).toEqual({ ok: false, code: "invalid_key" });
    expect(await stub.tip(tipInput())).toEqual({ ok: false, code: "not_found" });
    expect(await inLedger(stub, (_, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray())).toEqual([]);
  });

  it("a tip with a fee: its transfer and its three legs in D1", async () => {
    const acct = await openAccount(10_000);
    const res = await acct.stub.tip(tipInput({ amount: 1_000, feeBps: 250, message: "thanks" }));
    expect(res).toMatchObject({
      ok: true,
      replayed: false,
      transfer: { kind: "tip", amount: 1_000, fee: 25, hold_id: null, provider_id: "prov_test", reason: "thanks" },
    });
    await exportNow(acct);
    const { transfers, legs } = await d1Rows(acct.id);
    const id = res.ok ? res.transfer.id : "";
    expect(transfers.find((t) => t.id === id)).toMatchObject({ kind: "tip", amount: 1_000 });
    expect(legs.filter((l) => l.transfer_id === id).map((l) => [l.ledger_account, l.amount])).toEqual([
      [acct.id, -1_000],
      ["prov_test", 975],
      ["platform", 25],
    ]);
  });
});
