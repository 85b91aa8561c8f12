import { describe, expect, it } from "vitest";
import type { ReserveResult } from "../../durable-objects/types";
import { balanceOf, inLedger, openAccount, reserveInput } from "./helpers";

// No overdraft however many calls race (I2): every money method is one transactionSync, and the
// balance table's CHECK backs it up in storage.

type Ok = Extract<ReserveResult, { ok: true }>;

describe("concurrent reserves (I2)", () => {
  it("1,000 reserves of 1 against a balance of 10: exactly 10 succeed", async () => {
    const acct = await openAccount(10);
    const results = await Promise.all(Array.from({ length: 1_000 }, () => acct.stub.reserve(reserveInput(acct.keyHash, 1))));
    const ok = results.filter((r): r is Ok => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(990);
    for (const r of refused) {
      expect(r).toEqual({ ok: false, code: "insufficient_funds", price: 1, available: 0, currency: "USD" });
    }
    // Each success saw the balance one lower than the one before it: 9, 8, …, 0, never below.
    expect(ok.map((r) => r.available).sort((a, b) => b - a)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(new Set(ok.map((r) => r.hold_id)).size).toBe(10);
    expect(await acct.stub.balance()).toEqual(balanceOf(10, 10));

    const held = await inLedger(acct.stub, (_i, state) =>
      state.storage.sql.exec<{ n: number; s: number }>("SELECT COUNT(*) AS n, SUM(amount) AS s FROM holds WHERE state = 'pending'").one(),
    );
    expect({ n: Number(held.n), s: Number(held.s) }).toEqual({ n: 10, s: 10 });

    // Capture them all at once: posted 0, nothing pending, ten capture transfers.
    const captures = await Promise.all(ok.map((r) => acct.stub.capture({ holdId: r.hold_id, amount: 1 })));
    expect(captures.every((c) => c.ok)).toBe(true);
    expect(await acct.stub.balance()).toEqual(balanceOf(0, 0));
    const journal = (await acct.stub.transfers(100, null)).data;
    expect(journal.filter((t) => t.kind === "capture")).toHaveLength(10);

    // Racing a second capture of every hold changes nothing.
    const again = await Promise.all(ok.map((r) => acct.stub.capture({ holdId: r.hold_id, amount: 1 })));
    expect(again.every((c) => !c.ok && c.code === "hold_not_pending")).toBe(true);
    expect(await acct.stub.balance()).toEqual(balanceOf(0, 0));
  });

  it("racing capture and void of the same holds resolves each exactly once (I4)", async () => {
    const acct = await openAccount(1_000);
    const holds = await Promise.all(Array.from({ length: 20 }, () => acct.stub.reserve(reserveInput(acct.keyHash, 50))));
    const ids = holds.map((h) => (h as Ok).hold_id);
    expect(ids.every(Boolean)).toBe(true);
    const [caps, voids] = await Promise.all([
      Promise.all(ids.map((id) => acct.stub.capture({ holdId: id, amount: 30 }))),
      Promise.all(ids.map((id) => acct.stub.release({ holdId: id, reason: "origin_failed" }))),
    ]);
    let captured = 0;
    for (let i = 0; i < ids.length; i++) {
      // Exactly one of the two wins for each hold.
      expect(Number(caps[i]!.ok) + Number(voids[i]!.ok)).toBe(1);
      if (caps[i]!.ok) captured++;
    }
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000 - 30 * captured, 0));
    const journal = (await acct.stub.transfers(100, null)).data;
    expect(journal.filter((t) => t.kind === "capture")).toHaveLength(captured);
  });
});

describe("credits interleaved with reserves (I2)", () => {
  it("never lets holds exceed the credits that arrived before them", async () => {
    const acct = await openAccount(0);
    const calls: Promise<{ kind: "credit"; ok: boolean } | { kind: "reserve"; res: ReserveResult }>[] = [];
    // Ten rounds: one credit of 5, then ten reserves of 1 → at most 5 of each round can succeed.
    for (let round = 0; round < 10; round++) {
      calls.push(
        acct.stub
          .credit({ actor: "operator", amount: 5, reference: `round ${round}`, idempotencyKey: null, fingerprint: "" })
          .then((r) => ({ kind: "credit" as const, ok: r.ok })),
      );
      for (let i = 0; i < 10; i++) {
        calls.push(acct.stub.reserve(reserveInput(acct.keyHash, 1)).then((res) => ({ kind: "reserve" as const, res })));
      }
    }
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.kind === "credit" && r.ok)).toHaveLength(10);
    const reserves = results.flatMap((r) => (r.kind === "reserve" ? [r.res] : []));
    // Calls on one stub are delivered in order (E-order) and each credit commits before its
    // round's reserves run: in every round exactly the first 5 succeed, the rest see 0 available.
    const outcome = reserves.map((r) => (r.ok ? r.available : `${r.code}@${"available" in r ? r.available : "?"}`));
    const no = "insufficient_funds@0";
    const perRound = [4, 3, 2, 1, 0, no, no, no, no, no];
    expect(outcome).toEqual(Array.from({ length: 10 }, () => perRound).flat());
    expect(await acct.stub.balance()).toEqual(balanceOf(50, 50));
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 1))).toMatchObject({ ok: false, code: "insufficient_funds", available: 0 });
    expect(await acct.stub.balance()).toEqual(balanceOf(50, 50));
  });
});

describe("requests keep their order while reserves are gathered into one commit", () => {
  it("a read or a void sent after reserves on the same stub runs after them", async () => {
    const acct = await openAccount(100);
    // Sent together: five reserves (gathered into one group), then a read, then more reserves.
    const first = Array.from({ length: 5 }, () => acct.stub.reserve(reserveInput(acct.keyHash, 10)));
    const read = acct.stub.balance();
    const second = Array.from({ length: 3 }, () => acct.stub.reserve(reserveInput(acct.keyHash, 10)));
    const held = await Promise.all(first);
    expect(held.map((r) => (r.ok ? r.available : r.code))).toEqual([90, 80, 70, 60, 50]);
    // The read saw exactly the five reserves sent before it, none of the three after it.
    expect(await read).toEqual(balanceOf(100, 50));
    expect((await Promise.all(second)).map((r) => (r.ok ? r.available : r.code))).toEqual([40, 30, 20]);
    const firstHold = held[0];
    if (!firstHold?.ok) throw new Error("first reserve failed");
    // A void sent before a reserve frees the money that reserve then takes.
    const voided = acct.stub.release({ holdId: firstHold.hold_id, reason: "test" });
    const after = acct.stub.reserve(reserveInput(acct.keyHash, 30));
    expect(await voided).toMatchObject({ ok: true });
    expect(await after).toMatchObject({ ok: true, available: 0 });
  });
});
