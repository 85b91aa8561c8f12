import { expect } from "vitest";
import { sha256Hex } from "../../core/audit-chain";
import type { AuditEvent, Mandate, MandateInput, ReserveResult } from "../../durable-objects/types";
import { newId, randomToken } from "../../core/ids";
import { inLedger, mandateOf, openAccount, reserveInput, type TestAccount } from "./helpers";

// Mandates (I9) through the AccountLedger's RPC: every violation refuses the hold inside the
// reserve transaction — nothing held, an audit "hold" event refused with the reason — and the
// mandate's counters move with its holds, so racing calls cannot overrun its cap (I2's race).
// These are the fixtures the mandates-*.test.ts suites share.

export const HOUR = 3_600_000;
export const INTENT = "Book my train to Lyon, second class, under 20 dollars";
export const SLUG = "translate";

export type Ok = Extract<ReserveResult, { ok: true }>;
export type Bound = TestAccount & { mandate: Mandate };

export function mandateInput(over: Partial<MandateInput> = {}): MandateInput {
  const now = Date.now();
  return {
    intent: INTENT,
    max_total: 100,
    max_per_call: 50,
    max_per_day: null,
    valid_from: now - HOUR,
    valid_until: now + HOUR,
    services: null,
    tags: null,
    ...over,
  };
}

/** An account with `credit`, a mandate, and an agent key bound to it (replacing openAccount's key). */
export async function bound(credit: number, over: Partial<MandateInput> = {}): Promise<Bound> {
  const acct = await openAccount(credit);
  const mandate = mandateOf(await acct.stub.createMandate({ mandate: mandateInput(over), actor: "owner" }));
  if (!mandate) throw new Error("createMandate returned null");
  const keyId = newId("ak");
  const keyHash = `hash_${randomToken(32)}`;
  const created = await acct.stub.createAgentKey({ id: keyId, name: "bound", keyHash, mandateId: mandate.id, actor: "owner" });
  expect(created).toMatchObject({ ok: true, key: { id: keyId, mandate_id: mandate.id } });
  return { ...acct, keyId, keyHash, mandate };
}

export const reserve = (acct: Bound, amount: number, over: Parameters<typeof reserveInput>[2] = {}) =>
  acct.stub.reserve(reserveInput(acct.keyHash, amount, { serviceSlug: SLUG, ...over }));

export async function reserveOk(acct: Bound, amount: number, over: Parameters<typeof reserveInput>[2] = {}): Promise<string> {
  const res = await reserve(acct, amount, over);
  if (!res.ok) throw new Error(`reserve failed: ${JSON.stringify(res)}`);
  return res.hold_id;
}

export async function lastAudit(acct: TestAccount): Promise<AuditEvent> {
  const [last] = (await acct.stub.auditEvents(1, null)).data;
  if (!last) throw new Error("no audit event");
  return last;
}

export async function counters(acct: Bound): Promise<{ spent: number; pending: number }> {
  const m = await acct.stub.mandate(acct.mandate.id);
  return { spent: Number(m?.spent), pending: Number(m?.pending) };
}

/** The mandate's per-UTC-day rows, as stored. */
export function days(acct: Bound): Promise<{ day: string; spent: number; pending: number }[]> {
  return inLedger(acct.stub, (_i, state) =>
    state.storage.sql
      .exec<{ day: string; spent: number; pending: number }>("SELECT day, spent, pending FROM mandate_days WHERE mandate_id = ? ORDER BY day", acct.mandate.id)
      .toArray()
      .map((r) => ({ day: String(r.day), spent: Number(r.spent), pending: Number(r.pending) })),
  );
}

/**
 * Asserts a refusal with `code`: the exact result, nothing held (balance and mandate counters
 * unchanged, no new hold row) and an audit "hold" event refused with the reason.
 */
export async function expectRefused(acct: Bound, amount: number, code: string, over: Parameters<typeof reserveInput>[2] = {}): Promise<void> {
  const balance = await acct.stub.balance();
  const before = await counters(acct);
  const holds = await holdCount(acct);
  const input = reserveInput(acct.keyHash, amount, { serviceSlug: SLUG, ...over });
  const res = await acct.stub.reserve(input);
  expect(res).toEqual({ ok: false, code, mandate_id: acct.mandate.id, detail: `The key's mandate refuses this call (${code}).` });
  expect(await acct.stub.balance()).toEqual(balance);
  expect(await counters(acct)).toEqual(before);
  expect(await holdCount(acct)).toBe(holds);
  expect(await lastAudit(acct)).toMatchObject({
    event: "hold",
    actor: `agent:${acct.keyId}`,
    agent_key_id: acct.keyId,
    mandate_id: acct.mandate.id,
    intent_hash: sha256Hex(INTENT),
    service_id: input.serviceId,
    request_id: input.requestId,
    amount,
    outcome: "refused",
    reason: code,
  });
}

export function holdCount(acct: TestAccount): Promise<number> {
  return inLedger(acct.stub, (_i, state) => Number(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM holds").one().n));
}
