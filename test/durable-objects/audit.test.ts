import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type AuditRecord, GENESIS, sha256Hex, verifyChain } from "../../core/audit-chain";
import type { AuditEvent, Mandate, MandateInput } from "../../durable-objects/types";
import { newId, randomToken } from "../../core/ids";
import { forgedWrites, inLedger, keyOf, mandateOf, openAccount, reserveInput, sleep, testEnv, type TestAccount } from "./helpers";

// The audit trail (I5, I9, I13): every event kind is appended with its fields, in the same
// transaction as what it records; the per-account hash chain verifies; the table refuses any
// rewrite; the alarm exports it to D1, where it verifies too.

const HOUR = 3_600_000;
const INTENT = "Translate my emails to French, at most 5 dollars a day";

function mandateInput(over: Partial<MandateInput> = {}): MandateInput {
  const now = Date.now();
  return {
    intent: INTENT,
    max_total: 1_000,
    max_per_call: 100,
    max_per_day: null,
    valid_from: now - HOUR,
    valid_until: now + HOUR,
    services: ["translate"],
    tags: null,
    ...over,
  };
}

/** The account's whole trail, oldest first. */
async function trail(acct: TestAccount): Promise<AuditEvent[]> {
  const page = await acct.stub.auditEvents(1_000, null);
  expect(page.next_cursor).toBeNull();
  return page.data.reverse();
}

/** An event as the chain hashed it: `at` back in epoch milliseconds. */
const asRecord = (e: AuditEvent): AuditRecord => ({ ...e, at: Date.parse(e.at) });

async function runAlarm(acct: TestAccount): Promise<void> {
  if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
}

type Story = TestAccount & { mandate: Mandate; boundKeyId: string; boundHash: string; requests: Record<string, string> };

/**
 * One account through every kind of event: opened, key created (no mandate), credit, mandate
 * created, key created with the mandate, holds accepted and refused, capture, void, expiry, key
 * revoked, mandate revoked.
 */
async function story(): Promise<Story> {
  const acct = await openAccount(1_000); // account_opened, key_created (no mandate), credit
  const mandate = mandateOf(await acct.stub.createMandate({ mandate: mandateInput(), actor: "owner" }))!;
  const boundKeyId = newId("ak");
  const boundHash = `hash_${randomToken(32)}`;
  expect((await acct.stub.createAgentKey({ id: boundKeyId, name: "bound", keyHash: boundHash, mandateId: mandate.id, actor: "operator" })).ok).toBe(true);

  const requests: Record<string, string> = {};
  const reserve = async (name: string, keyHash: string, amount: number, over: Parameters<typeof reserveInput>[2] = {}) => {
    const input = reserveInput(keyHash, amount, { serviceId: "svc_translate", serviceSlug: "translate", ...over });
    requests[name] = input.requestId;
    return acct.stub.reserve(input);
  };
  const captured = await reserve("captured", boundHash, 80);
  expect(captured.ok).toBe(true);
  expect((await acct.stub.capture({ holdId: (captured as { hold_id: string }).hold_id, amount: 60 })).ok).toBe(true);
  const voided = await reserve("voided", boundHash, 20);
  expect((await acct.stub.release({ holdId: (voided as { hold_id: string }).hold_id, reason: "origin_status_503" })).ok).toBe(true);
  expect(await reserve("refused", boundHash, 101)).toMatchObject({ ok: false, code: "mandate_per_call_exceeded" });
  expect((await reserve("unbound", acct.keyHash, 5)).ok).toBe(true);
  expect(await reserve("broke", acct.keyHash, 10_000)).toMatchObject({ ok: false, code: "insufficient_funds" });
  const expiring = await reserve("expiring", boundHash, 30, { ttlMs: 1 });
  expect(expiring.ok).toBe(true);
  await sleep(5);
  await runAlarm(acct); // expires the 30
  expect(keyOf(await acct.stub.revokeAgentKey({ id: acct.keyId, actor: "owner" }))).toMatchObject({ revoked_at: expect.any(String) });
  expect(mandateOf(await acct.stub.revokeMandate({ id: mandate.id, actor: "owner" }))).toMatchObject({ revoked_at: expect.any(String) });
  return { ...acct, mandate, boundKeyId, boundHash, requests };
}

describe("every event kind, with its fields", () => {
  it("records who did what, to which key, under which mandate and intent, for which request", async () => {
    const s = await story();
    const events = await trail(s);
    const intentHash = sha256Hex(INTENT);
    expect(s.mandate.intent_hash).toBe(intentHash);
    const common = { account_id: s.id };
    const bound = { agent_key_id: s.boundKeyId, mandate_id: s.mandate.id, intent_hash: intentHash, service_id: "svc_translate" };
    const unbound = { agent_key_id: s.keyId, mandate_id: null, intent_hash: null, service_id: "svc_translate" };
    const expected = [
      {
        event: "account_opened",
        actor: "operator",
        agent_key_id: null,
        mandate_id: null,
        intent_hash: null,
        service_id: null,
        request_id: null,
        amount: null,
        outcome: "ok",
        reason: "USD",
      },
      {
        event: "key_created",
        actor: "owner",
        agent_key_id: s.keyId,
        mandate_id: null,
        intent_hash: null,
        service_id: null,
        request_id: null,
        amount: null,
        outcome: "ok",
        reason: "no_mandate",
      },
      {
        event: "credit",
        actor: "operator",
        agent_key_id: null,
        mandate_id: null,
        intent_hash: null,
        service_id: null,
        request_id: null,
        amount: 1_000,
        outcome: "ok",
        reason: "opening",
      },
      {
        event: "mandate_created",
        actor: "owner",
        agent_key_id: null,
        mandate_id: s.mandate.id,
        intent_hash: intentHash,
        service_id: null,
        request_id: null,
        amount: 1_000,
        outcome: "ok",
        reason: null,
      },
      {
        event: "key_created",
        actor: "operator",
        agent_key_id: s.boundKeyId,
        mandate_id: s.mandate.id,
        intent_hash: intentHash,
        service_id: null,
        request_id: null,
        amount: null,
        outcome: "ok",
        reason: null,
      },
      { event: "hold", actor: `agent:${s.boundKeyId}`, ...bound, request_id: s.requests.captured, amount: 80, outcome: "accepted", reason: null },
      {
        event: "capture",
        actor: `agent:${s.boundKeyId}`,
        ...bound,
        request_id: s.requests.captured,
        amount: 60,
        outcome: "captured",
        reason: "origin_succeeded",
      },
      { event: "hold", actor: `agent:${s.boundKeyId}`, ...bound, request_id: s.requests.voided, amount: 20, outcome: "accepted", reason: null },
      { event: "void", actor: `agent:${s.boundKeyId}`, ...bound, request_id: s.requests.voided, amount: 20, outcome: "voided", reason: "origin_status_503" },
      {
        event: "hold",
        actor: `agent:${s.boundKeyId}`,
        ...bound,
        request_id: s.requests.refused,
        amount: 101,
        outcome: "refused",
        reason: "mandate_per_call_exceeded",
      },
      // A key without a mandate is bounded only by the balance: the trail says so.
      { event: "hold", actor: `agent:${s.keyId}`, ...unbound, request_id: s.requests.unbound, amount: 5, outcome: "accepted", reason: "no_mandate" },
      { event: "hold", actor: `agent:${s.keyId}`, ...unbound, request_id: s.requests.broke, amount: 10_000, outcome: "refused", reason: "insufficient_funds" },
      { event: "hold", actor: `agent:${s.boundKeyId}`, ...bound, request_id: s.requests.expiring, amount: 30, outcome: "accepted", reason: null },
      { event: "expiry", actor: "system", ...bound, request_id: s.requests.expiring, amount: 30, outcome: "expired", reason: "hold_timeout" },
      {
        event: "key_revoked",
        actor: "owner",
        agent_key_id: s.keyId,
        mandate_id: null,
        intent_hash: null,
        service_id: null,
        request_id: null,
        amount: null,
        outcome: "ok",
        reason: null,
      },
      {
        event: "mandate_revoked",
        actor: "owner",
        agent_key_id: null,
        mandate_id: s.mandate.id,
        intent_hash: intentHash,
        service_id: null,
        request_id: null,
        amount: null,
        outcome: "ok",
        reason: null,
      },
    ];
    const strip = ({ at: _at, prev_hash: _p, hash: _h, ...rest }: AuditEvent) => rest;
    expect(events.map(strip)).toEqual(expected.map((e, i) => ({ ...common, seq: i + 1, ...e })));
    // Times are ISO strings, in order; hashes are SHA-256 hex.
    for (const e of events) {
      expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const times = events.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("pages newest first by seq", async () => {
    const acct = await openAccount(10);
    for (let i = 0; i < 3; i++) await acct.stub.credit({ actor: "operator", amount: 1, reference: `r${i}`, idempotencyKey: null, fingerprint: "" });
    // account_opened, key_created, credit ×4 = 6 events
    const first = await acct.stub.auditEvents(4, null);
    expect(first.data.map((e) => e.seq)).toEqual([6, 5, 4, 3]);
    expect(first.next_cursor).toBe("3");
    const second = await acct.stub.auditEvents(4, Number(first.next_cursor));
    expect(second).toMatchObject({ data: [{ seq: 2 }, { seq: 1 }], next_cursor: null });
  });

  it("an unopened account has no trail and no head", async () => {
    const stub = testEnv.ACCOUNT.get(testEnv.ACCOUNT.idFromName(newId("acct")));
    expect(await stub.auditEvents(10, null)).toEqual({ data: [], next_cursor: null });
    expect(await stub.auditHead()).toBeNull();
  });
});

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
