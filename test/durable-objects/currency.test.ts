import { describe, expect, it } from "vitest";
import { newId, randomToken } from "../../core/ids";
import { ledger, newAccountId, openAccount, reserveInput } from "./helpers";

// A price is micro-units of its service's currency; the ledger refuses a reserve in another
// currency than the account's before anything moves, and says so on the audit trail.

/** An account in `currency` with one agent key and `credit` on it. */
async function openIn(currency: string, credit: number) {
  const id = newAccountId();
  const stub = ledger(id);
  expect(await stub.open({ accountId: id, currency, actor: "operator" })).toMatchObject({ ok: true, currency });
  const keyId = newId("ak");
  const keyHash = `hash_${randomToken(32)}`;
  expect(await stub.createAgentKey({ id: keyId, name: "bot", keyHash, actor: "owner" })).toMatchObject({ ok: true });
  expect(await stub.credit({ actor: "operator", amount: credit, reference: null, idempotencyKey: null, fingerprint: "" })).toMatchObject({ ok: true });
  return { id, stub, keyId, keyHash };
}

describe("reserve checks the price's currency against the account's", () => {
  it("a USD price on a JPY account: currency_mismatch with both currencies; no hold, balance unchanged, refusal audited", async () => {
    const acct = await openIn("JPY", 10_000);
    const input = reserveInput(acct.keyHash, 2000, { currency: "USD" });
    const res = await acct.stub.reserve(input);
    expect(res).toEqual({ ok: false, code: "currency_mismatch", account_currency: "JPY", service_currency: "USD" });
    expect(await acct.stub.balance()).toEqual({ currency: "JPY", posted: 10_000, pending: 0, available: 10_000 });
    const [last] = (await acct.stub.auditEvents(1, null)).data;
    expect(last).toMatchObject({
      event: "hold",
      outcome: "refused",
      reason: "currency_mismatch",
      agent_key_id: acct.keyId,
      request_id: input.requestId,
      amount: 2000,
    });
  });

  it("the same price in the account's own currency is held", async () => {
    const acct = await openIn("JPY", 10_000);
    const res = await acct.stub.reserve(reserveInput(acct.keyHash, 2000, { currency: "JPY" }));
    expect(res).toMatchObject({ ok: true, amount: 2000, available: 8000, currency: "JPY" });
  });

  it("an idempotent call refused for its currency is not remembered: nothing to replay", async () => {
    const acct = await openAccount(500);
    const idempotency = { key: "k-1", fingerprint: "f" };
    const refused = await acct.stub.reserve(reserveInput(acct.keyHash, 10, { currency: "EUR", idempotency }));
    expect(refused).toMatchObject({ ok: false, code: "currency_mismatch", account_currency: "USD", service_currency: "EUR" });
    const held = await acct.stub.reserve(reserveInput(acct.keyHash, 10, { currency: "USD", idempotency }));
    expect(held).toMatchObject({ ok: true, amount: 10 });
  });

  it("a frozen account is refused as frozen first (the kill switch comes before everything)", async () => {
    const acct = await openIn("JPY", 100);
    await acct.stub.freezeAccount({ frozen: true, actor: "operator" });
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 1, { currency: "USD" }))).toEqual({ ok: false, code: "account_frozen" });
  });
});
