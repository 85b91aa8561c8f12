import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import { reserveInput } from "./helpers";
import { hotAccount, outstanding } from "./shard-helpers";

// The parent's recall of unheld leases, raced inside its own object: a call is refused only when
// the whole account could not cover it, however a grant, a recall and a parent reserve interleave.

describe("a hot account's recall of unheld leases", () => {
  it("a grant outrun by the parent's own reserve in the same turn recalls the other shards instead of giving nothing", async () => {
    const acct = await hotAccount(200, 2);
    // Shard 2 holds a lease of 100, unheld; the parent keeps 100.
    await runInDurableObject(acct.stub, (l: AccountLedger) => l.leases.grant({ index: 2, need: 100, want: 100 }));
    // Sent together: the parent's own reserve of its 100, then shard 1 asking for 100 a call waits for.
    const { reserved, granted } = await runInDurableObject(acct.stub, async (l: AccountLedger) => {
      const reserve = l.reserve(reserveInput(acct.keyHash, 100));
      const grant = l.leases.grant({ index: 1, need: 100, want: 100 });
      return { reserved: await reserve, granted: (await grant)?.granted };
    });
    expect(reserved).toMatchObject({ ok: true, amount: 100 });
    // Shard 1 got its 100: shard 2's unheld lease came back for it.
    expect(granted).toBe(100);
    expect(await outstanding(acct)).toEqual([100, 0]);
    expect(await acct.stub.balance()).toMatchObject({ available: 0, pending: 200 });
  });

  it("a lease granted while its shard's recall is in flight is recalled the next time the parent is short", async () => {
    const acct = await hotAccount(300, 2);
    await runInDurableObject(acct.stub, (l: AccountLedger) => l.leases.grant({ index: 2, need: 100, want: 100 }));
    // A parent reserve of 250 recalls shard 2's 100; shard 2 is granted 50 before the recall answers.
    const [big, late] = await runInDurableObject(acct.stub, async (l: AccountLedger) => {
      const reserve = l.reserve(reserveInput(acct.keyHash, 250));
      const grant = l.leases.grant({ index: 2, need: 50, want: 50 });
      return [await reserve, await grant];
    });
    expect(big).toMatchObject({ ok: true, amount: 250 });
    expect(late?.granted).toBe(150);
    expect(await outstanding(acct)).toEqual([0, 50]);
    // The last 50 sits unheld on shard 2: a parent call for it recalls it rather than refusing.
    const last = await acct.stub.reserve(reserveInput(acct.keyHash, 50));
    expect(last).toMatchObject({ ok: true, amount: 50 });
    expect(await outstanding(acct)).toEqual([0, 0]);
    expect(await acct.stub.balance()).toMatchObject({ available: 0, pending: 300 });
  });

  it("a lease granted ahead of need, queued between two parent reserves, leaves what the second one claimed", async () => {
    const acct = await hotAccount(200, 2);
    const [first, ahead, second] = await runInDurableObject(acct.stub, async (l: AccountLedger) => {
      const r1 = l.reserve(reserveInput(acct.keyHash, 10));
      const grant = l.leases.grant({ index: 1, need: 0, want: 1_000 });
      const r2 = l.reserve(reserveInput(acct.keyHash, 100));
      return [await r1, await grant, await r2];
    });
    expect(first).toMatchObject({ ok: true, amount: 10 });
    expect(second).toMatchObject({ ok: true, amount: 100 });
    // The grant took a fair share of what was neither held nor claimed: (190 − 100) / 2.
    expect(ahead?.granted).toBe(45);
    expect(await acct.stub.balance()).toMatchObject({ available: 45, pending: 155 });
  });
});
