import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountShard } from "../../durable-objects/shard";
import { SHARD_IDLE_MS } from "../../durable-objects/shard";
import { newId, randomToken } from "../../core/ids";
import type { Reservation } from "../../worker/account-client/client";
import { shardOf } from "../../worker/account-client/routing";
import { balanceOf, d1Rows, openAccount, reserveInput, sleep } from "./helpers";
import { expectNoOverdraft, type HotAccount, hotAccount, isHold, outstanding, reserveCall, runShardAlarm, settleShards, shardBalance } from "./shard-helpers";

// A hot account (docs/HOT-ACCOUNTS.md): N shard objects spend leases of the account's balance.
// No overdraft across shards: leases outstanding plus the parent's own available never exceed
// the account's money, however many calls race on however many shards.

/** A storm of `n` concurrent one-unit calls through the Worker's account client; returns the holds. */
async function storm(acct: HotAccount, n: number, amount = 1) {
  const results = await Promise.all(Array.from({ length: n }, () => reserveCall(acct, amount)));
  return { holds: results.filter(isHold), refused: results.filter((r) => !isHold(r)) };
}

/**
 * 16 callers, each sending one call after another, while `change` runs; returns the answers of
 * calls started before `change` answered and of those started after.
 */
async function stormAround(acct: HotAccount, change: () => Promise<unknown>) {
  const before: Reservation[] = [];
  const after: Reservation[] = [];
  let done = false;
  let stop = false;
  const caller = async () => {
    while (!stop) {
      const startedAfter = done;
      const r = await reserveCall(acct, 1);
      (startedAfter ? after : before).push(r);
    }
  };
  const callers = Array.from({ length: 16 }, caller);
  // The change lands mid-storm: after calls were served, with callers still sending.
  while (before.filter(isHold).length < 32) await sleep(5);
  await change();
  done = true;
  while (after.length < 64) await sleep(5);
  stop = true;
  await Promise.all(callers);
  return { before, after };
}

describe("a hot account's shards", () => {
  it("8 shards, 2,000 concurrent calls, money for exactly 1,000: 1,000 succeed, balance 0, one journal", async () => {
    const acct = await hotAccount(1_000, 8);
    const { holds, refused } = await storm(acct, 2_000);
    expect(holds).toHaveLength(1_000);
    expect(refused).toHaveLength(1_000);
    for (const r of refused) expect(r).toMatchObject({ ok: false, code: "insufficient_funds" });
    expect(new Set(holds.map((h) => h.id)).size).toBe(1_000);
    await expectNoOverdraft(acct);
    // The calls were spread: no object served them all.
    const served = await Promise.all(
      acct.shards.map((s) => runInDurableObject(s, (_x: AccountShard, st) => Number(st.storage.sql.exec("SELECT COUNT(*) AS n FROM holds").one().n))),
    );
    expect(served.filter((n) => n > 0).length).toBeGreaterThanOrEqual(4);

    for (const h of holds) h.capture(1, {});
    await settleShards(acct);
    expect(await acct.stub.balance()).toEqual(balanceOf(0, 0));
    expect(await outstanding(acct)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // One account: one journal, gapless, every capture once, each keeping its shard's id.
    const journal = (await acct.stub.transfers(100, null)).data;
    expect(journal[0]?.seq).toBe(1_001);
    let all = journal;
    for (let cursor = journal.at(-1)?.seq ?? 0; cursor > 1; ) {
      const next = (await acct.stub.transfers(100, cursor)).data;
      all = all.concat(next);
      cursor = next.at(-1)?.seq ?? 0;
    }
    expect(all.map((t) => t.seq)).toEqual(Array.from({ length: 1_001 }, (_, i) => 1_001 - i));
    const captures = all.filter((t) => t.kind === "capture");
    expect(captures).toHaveLength(1_000);
    expect(new Set(captures.map((t) => t.hold_id))).toEqual(new Set(holds.map((h) => h.id)));
    // …and it reaches D1 as one account, once.
    if (!(await runDurableObjectAlarm(acct.stub))) throw new Error("no export alarm was set");
    const d1 = await d1Rows(acct.id);
    expect(d1.transfers).toHaveLength(1_001);
    expect(d1.legs.reduce((s, l) => s + l.amount, 0)).toBe(0);
  }, 120_000);

  it("a capture delivered twice and a report delivered twice land once", async () => {
    const acct = await hotAccount(100, 2);
    const { holds } = await storm(acct, 10, 3);
    expect(holds).toHaveLength(10);
    for (const h of holds) {
      h.capture(2, {});
      h.capture(2, {});
    }
    await settleShards(acct);
    // Report again what was already rolled in, as a late duplicate would.
    for (const shard of acct.shards) {
      const report = await runInDurableObject(shard, (s: AccountShard, st) => {
        st.storage.sql.exec("UPDATE export_state SET exported_seq = 0");
        return s.lease.report();
      });
      await acct.stub.shardReport(report);
      await acct.stub.shardReport(report);
    }
    expect(await acct.stub.balance()).toMatchObject({ posted: 80 });
    expect((await acct.stub.transfers(100, null)).data.filter((t) => t.kind === "capture")).toHaveLength(10);
  });

  it("an idle shard hands its lease back when its alarm runs", async () => {
    const acct = await hotAccount(1_000, 2);
    const { holds } = await storm(acct, 4, 10);
    expect(holds).toHaveLength(4);
    for (const h of holds) h.release("test");
    await acct.life.settled();
    expect((await outstanding(acct)).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    for (const shard of acct.shards) {
      await runInDurableObject(shard, (s: AccountShard) => {
        s.lastCall = Date.now() - SHARD_IDLE_MS - 1;
      });
      await runShardAlarm(shard);
    }
    expect(await outstanding(acct)).toEqual([0, 0]);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 0));
    for (const shard of acct.shards) expect(await shardBalance(shard)).toMatchObject({ pending: 0 });
  });

  it("a call its shard cannot cover: the shard asks the parent at once, which recalls the other shards' unheld leases first", async () => {
    const acct = await hotAccount(100, 4);
    // Lease money to every shard, then ask for more than any one lease.
    for (const h of (await storm(acct, 40, 1)).holds) h.release("test");
    await acct.life.settled();
    const big = await reserveCall(acct, 100);
    expect(isHold(big)).toBe(true);
    expect(await acct.stub.balance()).toMatchObject({ available: 0 });
    await expectNoOverdraft(acct);
  });

  it("revoking a key during a storm stops every shard before the revoke answers", async () => {
    const acct = await hotAccount(1_000_000, 8);
    const { before, after } = await stormAround(acct, () => acct.stub.revokeAgentKey({ id: acct.keyId, actor: "owner" }));
    expect(before.filter(isHold).length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    // Every call started after the revoke answered is refused, whichever shard it reached…
    for (const r of after) expect(r).toMatchObject({ ok: false, code: "invalid_key" });
    // …and so is a call sent to each shard directly, and to the parent.
    for (const shard of acct.shards) expect(await shard.reserve(reserveInput(acct.keyHash, 1))).toMatchObject({ ok: false, code: "invalid_key" });
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 1))).toMatchObject({ ok: false, code: "invalid_key" });
  });

  it("freezing the account during a storm stops every shard, and the shards hand their leases back", async () => {
    const acct = await hotAccount(1_000_000, 8);
    const { before, after } = await stormAround(acct, () => acct.stub.freezeAccount({ frozen: true, actor: "operator" }));
    expect(before.filter(isHold).length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    for (const r of after) expect(r).toMatchObject({ ok: false, code: "account_frozen" });
    for (const shard of acct.shards) expect(await shard.reserve(reserveInput(acct.keyHash, 1))).toMatchObject({ ok: false });
    expect((await storm(acct, 50)).holds).toHaveLength(0);
    // What is still leased out is exactly what the shards hold for calls in flight.
    const leases = await outstanding(acct);
    for (const [i, shard] of acct.shards.entries()) {
      const b = await shardBalance(shard);
      expect(b.credits - b.debits).toBe(b.pending);
      expect(leases[i]).toBe(b.pending);
    }
  });

  it("lowering the shard count returns the closed shards' leases before it answers; 1 turns sharding off", async () => {
    const acct = await hotAccount(10_000, 8);
    const { holds } = await storm(acct, 400);
    for (const h of holds) h.release("test");
    await acct.life.settled();
    expect(await acct.stub.setShards({ shards: 2, actor: "owner" })).toEqual({ ok: true, shards: 2 });
    const leases = await outstanding(acct);
    expect(leases.slice(2)).toEqual([0, 0, 0, 0, 0, 0]);
    for (const shard of acct.shards.slice(2)) expect(await shard.reserve(reserveInput(acct.keyHash, 1))).toMatchObject({ code: "not_here", shards: 2 });
    expect(await acct.stub.setShards({ shards: 1, actor: "owner" })).toEqual({ ok: true, shards: 1 });
    expect(await outstanding(acct)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await acct.stub.balance()).toEqual(balanceOf(10_000, 0));
    // The Worker learns it from the next answer and calls the parent again.
    const r = await reserveCall(acct, 1);
    expect(isHold(r)).toBe(true);
  });

  it("a key with a mandate or velocity limits is served by the parent only (its caps stay exact)", async () => {
    const acct = await hotAccount(1_000, 4);
    const keyHash = `hash_${randomToken(32)}`;
    const limited = await acct.stub.createAgentKey({
      id: newId("ak"),
      name: "limited",
      keyHash,
      limits: { max_calls_per_minute: 5, max_spend_per_minute: null },
      actor: "owner",
    });
    expect(limited.ok).toBe(true);
    const results = await Promise.all(Array.from({ length: 20 }, () => reserveCall(acct, 1, keyHash)));
    expect(results.filter(isHold)).toHaveLength(5);
    for (const shard of acct.shards) {
      expect(await shard.reserve(reserveInput(keyHash, 1))).toMatchObject({ ok: false, code: "not_here", reason: "restricted_key" });
    }
  });

  it("a mandate's total cap stays exact under a storm on a hot account: its key is served by the parent only", async () => {
    const acct = await hotAccount(1_000, 8);
    const now = Date.now();
    const mandate = await acct.stub.createMandate({
      mandate: {
        intent: "cap",
        max_total: 30,
        max_per_call: 5,
        max_per_day: null,
        valid_from: now - 1_000,
        valid_until: now + 3_600_000,
        services: null,
        tags: null,
      },
      actor: "owner",
    });
    if (!mandate.ok) throw new Error("no mandate");
    const keyHash = `hash_${randomToken(32)}`;
    expect((await acct.stub.createAgentKey({ id: newId("ak"), name: "bound", keyHash, mandateId: mandate.mandate.id, actor: "owner" })).ok).toBe(true);
    const results = await Promise.all(Array.from({ length: 100 }, () => reserveCall(acct, 1, keyHash)));
    expect(results.filter(isHold)).toHaveLength(30);
    for (const r of results.filter((x) => !isHold(x))) expect(r).toMatchObject({ ok: false, code: "mandate_exceeded" });
    for (const shard of acct.shards) expect(await shard.reserve(reserveInput(keyHash, 1))).toMatchObject({ code: "not_here", reason: "restricted_key" });
  });

  it("a plain account's answers are unchanged: no shard count, and the Worker never routes it to a shard", async () => {
    const acct = await openAccount(10);
    const answer = await acct.stub.reserve(reserveInput(acct.keyHash, 1));
    expect(answer.ok && Object.keys(answer).sort()).toEqual(["agent_key_id", "amount", "available", "currency", "hold_id", "ok"]);
    expect(shardOf(acct.id, reserveInput(acct.keyHash, 1))).toBeNull();
  });

  it("a key created after a shard found its hash unknown is served at once (the creation is pushed)", async () => {
    const acct = await hotAccount(100, 2);
    const keyHash = `hash_${randomToken(32)}`;
    for (const shard of acct.shards) expect(await shard.reserve(reserveInput(keyHash, 1))).toMatchObject({ ok: false, code: "invalid_key" });
    expect((await acct.stub.createAgentKey({ id: newId("ak"), name: "new", keyHash, actor: "owner" })).ok).toBe(true);
    for (const shard of acct.shards) expect(await shard.reserve(reserveInput(keyHash, 1))).toMatchObject({ ok: true });
  });

  it("validates the shard count", async () => {
    const acct = await hotAccount(10, 2);
    for (const shards of [0, 65, 1.5]) expect(await acct.stub.setShards({ shards, actor: "owner" })).toEqual({ ok: false, code: "invalid_shards" });
  });
});
