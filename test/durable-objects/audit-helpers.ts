import { runDurableObjectAlarm } from "cloudflare:test";
import { expect } from "vitest";
import type { AuditRecord } from "../../core/audit-chain";
import type { AuditEvent, Mandate, MandateInput } from "../../durable-objects/types";
import { newId, randomToken } from "../../core/ids";
import { inLedger, keyOf, mandateOf, openAccount, reserveInput, sleep, type TestAccount } from "./helpers";

// The audit trail (I5, I9, I13): every event kind is appended with its fields, in the same
// transaction as what it records; the per-account hash chain verifies; the table refuses any
// rewrite; the alarm exports it to D1, where it verifies too.
// These are the fixtures the audit-*.test.ts suites share.

export const HOUR = 3_600_000;
export const INTENT = "Translate my emails to French, at most 5 dollars a day";

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
export async function trail(acct: TestAccount): Promise<AuditEvent[]> {
  const page = await acct.stub.auditEvents(1_000, null);
  expect(page.next_cursor).toBeNull();
  return page.data.reverse();
}

/** An event as the chain hashed it: `at` back in epoch milliseconds. */
export const asRecord = (e: AuditEvent): AuditRecord => ({ ...e, at: Date.parse(e.at) });

export async function runAlarm(acct: TestAccount): Promise<void> {
  if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
}

export type Story = TestAccount & { mandate: Mandate; boundKeyId: string; boundHash: string; requests: Record<string, string> };

/**
 * One account through every kind of event: opened, key created (no mandate), credit, mandate
 * created, key created with the mandate, holds accepted and refused, capture, void, expiry, key
 * revoked, mandate revoked.
 */
export async function story(): Promise<Story> {
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
