import { describe, expect, it } from "vitest";
import { balanceOf, openAccount, reserveInput, reserveOk } from "./helpers";

// I11 at the ledger's own boundary: whoever calls the Durable Object, a malformed amount is
// refused with a result (never a raw SQLite error) and changes nothing.
const BAD = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 2 ** 53 + 1];

describe("amounts at the ledger's RPC boundary (I11)", () => {
  it("reserve refuses a malformed amount and holds nothing", async () => {
    const acct = await openAccount(1_000);
    for (const amount of BAD) {
      expect(await acct.stub.reserve(reserveInput(acct.keyHash, amount)), String(amount)).toMatchObject({ ok: false, code: "invalid_amount" });
    }
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 0));
  });

  it("capture refuses a malformed amount and leaves the hold pending", async () => {
    const acct = await openAccount(1_000);
    const holdId = await reserveOk(acct, 100);
    for (const amount of BAD) {
      expect(await acct.stub.capture({ holdId, amount }), String(amount)).toMatchObject({ ok: false, code: "invalid_amount" });
    }
    expect((await acct.stub.hold(holdId))?.state).toBe("pending");
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 100));
    expect(await acct.stub.capture({ holdId, amount: 40 })).toMatchObject({ ok: true });
    expect(await acct.stub.balance()).toEqual(balanceOf(960, 0));
  });

  it("credit refuses zero and malformed amounts and moves no money", async () => {
    const acct = await openAccount(500);
    for (const amount of [0, ...BAD]) {
      const result = await acct.stub.credit({ actor: "operator", amount, reference: null, idempotencyKey: null, fingerprint: "x" });
      expect(result, String(amount)).toMatchObject({ ok: false, code: "invalid_amount" });
    }
    expect(await acct.stub.balance()).toEqual(balanceOf(500, 0));
  });

  it("credit refuses what would take the credits past 2^53 − 1, so every balance stays an exact number", async () => {
    const acct = await openAccount(Number.MAX_SAFE_INTEGER - 10);
    const over = await acct.stub.credit({ actor: "operator", amount: 11, reference: null, idempotencyKey: null, fingerprint: "x" });
    expect(over).toMatchObject({ ok: false, code: "amount_out_of_range" });
    expect(await acct.stub.balance()).toEqual(balanceOf(Number.MAX_SAFE_INTEGER - 10, 0));
    expect(await acct.stub.credit({ actor: "operator", amount: 10, reference: null, idempotencyKey: null, fingerprint: "x" })).toMatchObject({ ok: true });
    expect(await acct.stub.balance()).toEqual(balanceOf(Number.MAX_SAFE_INTEGER, 0));
  });
});
