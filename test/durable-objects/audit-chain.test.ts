import { describe, expect, it } from "vitest";
import { GENESIS, verifyChain } from "../../core/audit-chain";
import { openAccount } from "./helpers";
import { asRecord, story, trail } from "./audit-helpers";

// The per-account hash chain of the audit trail verifies from GENESIS to the head (I13).

describe("the hash chain", () => {
  it("verifies over the DO's events in seq order, from GENESIS to the head", async () => {
    const s = await story();
    const events = await trail(s);
    expect(events[0]?.prev_hash).toBe(GENESIS);
    const check = verifyChain(events.map(asRecord));
    expect(check).toEqual({ ok: true, checked: events.length, head_seq: events.length, head_hash: events[events.length - 1]?.hash });
    expect(await s.stub.auditHead()).toMatchObject({ seq: events.length, hash: events[events.length - 1]?.hash });
  });

  it("a refused call is on the chain: a trail with it removed fails verification", async () => {
    const s = await story();
    const records = (await trail(s)).map(asRecord);
    const refused = records.findIndex((r) => r.outcome === "refused");
    expect(refused).toBeGreaterThan(0);
    const without = records.filter((_, i) => i !== refused);
    expect(verifyChain(without)).toMatchObject({ ok: false, seq: refused + 1, problem: "missing" });
  });

  it("two accounts' chains are independent: each starts from GENESIS", async () => {
    const a = await openAccount(5);
    const b = await openAccount(5);
    const [ea, eb] = [await trail(a), await trail(b)];
    expect(ea[0]?.prev_hash).toBe(GENESIS);
    expect(eb[0]?.prev_hash).toBe(GENESIS);
    expect(ea[0]?.hash).not.toBe(eb[0]?.hash); // the account id is hashed
    expect(verifyChain(ea.map(asRecord)).ok).toBe(true);
    expect(verifyChain(eb.map(asRecord)).ok).toBe(true);
  });
});
