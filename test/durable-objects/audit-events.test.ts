import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/audit-chain";
import type { AuditEvent } from "../../durable-objects/types";
import { newId } from "../../core/ids";
import { openAccount, testEnv } from "./helpers";
import { INTENT, story, trail } from "./audit-helpers";

// The audit trail records every event kind with its fields, and pages newest first.

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
