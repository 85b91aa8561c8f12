import { describe, expect, it } from "vitest";
import { type AuditRecord, verifyChain } from "../../core/audit-chain";
import { inLedger, mandateOf, openAccount, reserveInput, sleep, testEnv } from "./helpers";
import { HOUR, asRecord, runAlarm, story, trail } from "./audit-helpers";

// The alarm exports the audit trail to D1, where it verifies too.

describe("export to D1", () => {
  const COLUMNS = "account_id, seq, at, actor, event, agent_key_id, mandate_id, intent_hash, service_id, request_id, amount, outcome, reason, prev_hash, hash";

  async function d1Audit(accountId: string): Promise<AuditRecord[]> {
    const r = await testEnv.DB.prepare(`SELECT ${COLUMNS} FROM audit_events WHERE account_id = ? ORDER BY seq`).bind(accountId).all<AuditRecord>();
    return r.results;
  }

  it("after the alarm, D1's audit_events equal the DO's trail and verify; a second run changes nothing", async () => {
    const s = await story();
    await runAlarm(s);
    const events = (await trail(s)).map(asRecord);
    const rows = await d1Audit(s.id);
    expect(rows).toEqual(events);
    expect(verifyChain(rows)).toEqual({ ok: true, checked: events.length, head_seq: events.length, head_hash: events[events.length - 1]?.hash });
    expect(await s.stub.auditHead()).toEqual({ seq: events.length, hash: events[events.length - 1]?.hash, exported_seq: events.length });

    // At-least-once: exporting again (the cursor rewound, as after a crash) lands nothing twice.
    await inLedger(s.stub, (_i, state) => {
      state.storage.sql.exec("UPDATE export_state SET audit_exported_seq = 0, exported_seq = 0 WHERE id = 1");
    });
    await inLedger(s.stub, (instance) => instance.alarm());
    expect(await d1Audit(s.id)).toEqual(events);
  });

  it("events that move no money (mandates, keys, refusals, voids) reach D1 within seconds on their own", async () => {
    const acct = await openAccount(1_000);
    await runAlarm(acct); // the opening events are in D1; nothing is scheduled any more
    expect(await d1Audit(acct.id)).toHaveLength(3);
    const now = Date.now();
    const m = mandateOf(
      await acct.stub.createMandate({
        mandate: { intent: "x", max_total: 5, max_per_call: 5, max_per_day: null, valid_from: now - HOUR, valid_until: now + HOUR, services: null, tags: null },
        actor: "owner",
      }),
    )!;
    await acct.stub.revokeMandate({ id: m.id, actor: "owner" });
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 10_000))).toMatchObject({ ok: false, code: "insufficient_funds" });
    await acct.stub.revokeAgentKey({ id: acct.keyId, actor: "owner" });
    const events = (await trail(acct)).map(asRecord);
    expect(events.map((e) => e.event)).toEqual(["account_opened", "key_created", "credit", "mandate_created", "mandate_revoked", "hold", "key_revoked"]);
    // No test hook: the export the DO scheduled itself.
    const until = Date.now() + 5_000;
    while ((await d1Audit(acct.id)).length < events.length && Date.now() < until) await sleep(50);
    expect(await d1Audit(acct.id)).toEqual(events);
  });

  it("exports a long trail in batches (more than one D1 statement's worth)", async () => {
    const acct = await openAccount(1_000);
    await Promise.all(Array.from({ length: 150 }, () => acct.stub.reserve(reserveInput(acct.keyHash, 1, { ttlMs: 60_000 }))));
    await runAlarm(acct);
    const events = (await trail(acct)).map(asRecord);
    expect(events).toHaveLength(3 + 150);
    const rows = await d1Audit(acct.id);
    expect(rows).toEqual(events);
    expect(verifyChain(rows).ok).toBe(true);
  });

  it("D1 does not take another account's rows for this one: (account, seq) is the key", async () => {
    const a = await openAccount(7);
    const b = await openAccount(9);
    await runAlarm(a);
    await runAlarm(b);
    const [ra, rb] = [await d1Audit(a.id), await d1Audit(b.id)];
    expect(ra.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rb.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(ra.map((r) => r.amount)).toEqual([null, null, 7]);
    expect(rb.map((r) => r.amount)).toEqual([null, null, 9]);
  });
});
