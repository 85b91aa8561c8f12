import { describe, expect, it } from "vitest";
import { verifyChain } from "../../core/audit-chain";
import { forgedWrites, inLedger, openAccount } from "./helpers";
import { asRecord, story, trail } from "./audit-helpers";

// The audit table refuses any rewrite (I5, I8); what storage access can still append, the chain catches.

describe("append-only storage (I5, I8)", () => {
  it("refuses UPDATE, DELETE, REPLACE and inserts that leave a gap or reuse a seq", async () => {
    const s = await story();
    const before = await trail(s);
    const last = before.length;
    const attempts = [
      "UPDATE audit SET amount = 1 WHERE seq = 7",
      "UPDATE audit SET reason = 'forged'",
      "UPDATE audit SET hash = prev_hash WHERE seq = 1",
      "DELETE FROM audit WHERE seq = 10",
      `DELETE FROM audit WHERE seq = ${last}`,
      "DELETE FROM audit",
      // REPLACE deletes the conflicting row without firing DELETE triggers.
      "INSERT OR REPLACE INTO audit (seq, at, actor, event, outcome, prev_hash, hash) VALUES (7, 0, 'owner', 'capture', 'captured', 'x', 'y')",
      "REPLACE INTO audit (seq, at, actor, event, outcome, prev_hash, hash) VALUES (1, 0, 'owner', 'credit', 'ok', 'x', 'y')",
      `INSERT INTO audit (seq, at, actor, event, outcome, prev_hash, hash) VALUES (${last + 2}, 0, 'owner', 'credit', 'ok', 'x', 'y')`,
      `INSERT INTO audit (seq, at, actor, event, outcome, prev_hash, hash) VALUES (${last}, 0, 'owner', 'credit', 'ok', 'x', 'y')`,
      "INSERT INTO audit (seq, at, actor, event, outcome, prev_hash, hash) VALUES (0, 0, 'owner', 'credit', 'ok', 'x', 'y')",
      "INSERT INTO audit (seq, at, actor, event, outcome, prev_hash, hash) VALUES (-1, 0, 'owner', 'credit', 'ok', 'x', 'y')",
      // A NULL seq would take the next rowid; the trigger sees -1 before it is assigned.
      "INSERT INTO audit (seq, at, actor, event, outcome, prev_hash, hash) VALUES (NULL, 0, 'owner', 'credit', 'ok', 'x', 'y')",
    ];
    const outcomes = await forgedWrites(s.stub, attempts);
    expect(outcomes).toEqual(attempts.map(() => "refused"));
    const after = await trail(s);
    expect(after).toEqual(before);
    expect(verifyChain(after.map(asRecord)).ok).toBe(true);
  });

  it("a direct append at the next seq is possible only by storage access, and then fails verification", async () => {
    // The triggers keep seq gapless; a forged append with a made-up hash is what the chain catches.
    const acct = await openAccount(5);
    const before = await trail(acct);
    await inLedger(acct.stub, (_i, state) => {
      state.storage.sql.exec(
        "INSERT INTO audit (seq, at, actor, event, outcome, prev_hash, hash) VALUES (?, 0, 'owner', 'credit', 'ok', ?, ?)",
        before.length + 1,
        before[before.length - 1]!.hash,
        "f".repeat(64),
      );
    });
    const after = await trail(acct);
    expect(verifyChain(after.map(asRecord))).toMatchObject({ ok: false, seq: before.length + 1, problem: "hash_mismatch" });
  });
});
