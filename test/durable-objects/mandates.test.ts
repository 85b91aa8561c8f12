import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/audit-chain";
import type { AuditEvent, Mandate, MandateInput, ReserveResult } from "../../durable-objects/types";
import { utcDay } from "../../durable-objects/mandate-check";
import { newId, randomToken } from "../../core/ids";
import { balanceOf, inLedger, mandateOf, openAccount, reserveInput, sleep, testEnv, type TestAccount } from "./helpers";

// Mandates (I9) through the AccountLedger's RPC: every violation refuses the hold inside the
// reserve transaction — nothing held, an audit "hold" event refused with the reason — and the
// mandate's counters move with its holds, so racing calls cannot overrun its cap (I2's race).

const HOUR = 3_600_000;
const INTENT = "Book my train to Lyon, second class, under 20 dollars";
const SLUG = "translate";

type Ok = Extract<ReserveResult, { ok: true }>;
type Bound = TestAccount & { mandate: Mandate };

function mandateInput(over: Partial<MandateInput> = {}): MandateInput {
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
async function bound(credit: number, over: Partial<MandateInput> = {}): Promise<Bound> {
  const acct = await openAccount(credit);
  const mandate = mandateOf(await acct.stub.createMandate({ mandate: mandateInput(over), actor: "owner" }));
  if (!mandate) throw new Error("createMandate returned null");
  const keyId = newId("ak");
  const keyHash = `hash_${randomToken(32)}`;
  const created = await acct.stub.createAgentKey({ id: keyId, name: "bound", keyHash, mandateId: mandate.id, actor: "owner" });
  expect(created).toMatchObject({ ok: true, key: { id: keyId, mandate_id: mandate.id } });
  return { ...acct, keyId, keyHash, mandate };
}

const reserve = (acct: Bound, amount: number, over: Parameters<typeof reserveInput>[2] = {}) =>
  acct.stub.reserve(reserveInput(acct.keyHash, amount, { serviceSlug: SLUG, ...over }));

async function reserveOk(acct: Bound, amount: number, over: Parameters<typeof reserveInput>[2] = {}): Promise<string> {
  const res = await reserve(acct, amount, over);
  if (!res.ok) throw new Error(`reserve failed: ${JSON.stringify(res)}`);
  return res.hold_id;
}

async function lastAudit(acct: TestAccount): Promise<AuditEvent> {
  const [last] = (await acct.stub.auditEvents(1, null)).data;
  if (!last) throw new Error("no audit event");
  return last;
}

async function counters(acct: Bound): Promise<{ spent: number; pending: number }> {
  const m = await acct.stub.mandate(acct.mandate.id);
  return { spent: Number(m?.spent), pending: Number(m?.pending) };
}

/** The mandate's per-UTC-day rows, as stored. */
function days(acct: Bound): Promise<{ day: string; spent: number; pending: number }[]> {
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
async function expectRefused(acct: Bound, amount: number, code: string, over: Parameters<typeof reserveInput>[2] = {}): Promise<void> {
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

function holdCount(acct: TestAccount): Promise<number> {
  return inLedger(acct.stub, (_i, state) => Number(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM holds").one().n));
}

describe("creating and reading mandates", () => {
  it("records the terms, the intent's SHA-256 and zero counters; lists it", async () => {
    const acct = await openAccount(0);
    const input = mandateInput({ max_per_day: 30, services: ["translate", "search"], tags: { team: "growth" } });
    const m = mandateOf(await acct.stub.createMandate({ mandate: input, actor: "owner" }));
    expect(m).toEqual({
      id: expect.stringMatching(/^mnd_[0-9a-z]{20}$/),
      intent: INTENT,
      intent_hash: sha256Hex(INTENT),
      max_total: 100,
      max_per_call: 50,
      max_per_day: 30,
      valid_from: new Date(input.valid_from).toISOString(),
      valid_until: new Date(input.valid_until).toISOString(),
      services: ["translate", "search"],
      tags: { team: "growth" },
      created_at: expect.any(String),
      revoked_at: null,
      spent: 0,
      pending: 0,
      max_tip: null,
    });
    expect(await acct.stub.mandate(m!.id)).toEqual(m);
    expect(await acct.stub.mandates(10, null)).toEqual({ data: [m], next_cursor: null });
  });

  it("pages the list by id", async () => {
    const acct = await openAccount(0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(mandateOf(await acct.stub.createMandate({ mandate: mandateInput(), actor: "owner" }))!.id);
    ids.sort();
    const first = await acct.stub.mandates(2, null);
    expect(first.data.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(first.next_cursor).toBe(ids[1]);
    const second = await acct.stub.mandates(2, first.next_cursor);
    expect(second).toMatchObject({ data: [{ id: ids[2] }], next_cursor: null });
  });

  it("an unknown mandate, or any mandate of an unopened account, is null", async () => {
    const acct = await openAccount(0);
    expect(await acct.stub.mandate("mnd_00000000000000000000")).toBeNull();
    expect(mandateOf(await acct.stub.revokeMandate({ id: "mnd_00000000000000000000", actor: "owner" }))).toBeNull();
    const unopened = testEnv.ACCOUNT.get(testEnv.ACCOUNT.idFromName(newId("acct")));
    expect(mandateOf(await unopened.createMandate({ mandate: mandateInput(), actor: "owner" }))).toBeNull();
    expect(await unopened.mandates(10, null)).toEqual({ data: [], next_cursor: null });
  });
});

describe("violations: 403 codes, nothing held, audited", () => {
  it("mandate_not_started: before valid_from", async () => {
    const acct = await bound(1_000, { valid_from: Date.now() + HOUR, valid_until: Date.now() + 2 * HOUR });
    await expectRefused(acct, 1, "mandate_not_started");
  });

  it("mandate_expired: after valid_until", async () => {
    const acct = await bound(1_000, { valid_from: Date.now() - 2 * HOUR, valid_until: Date.now() - 1 });
    await expectRefused(acct, 1, "mandate_expired");
  });

  it("mandate_expired: a mandate that was valid becomes expired at valid_until", async () => {
    const acct = await bound(1_000, { valid_until: Date.now() + 300 });
    const hold = await reserveOk(acct, 5);
    await sleep(350);
    await expectRefused(acct, 5, "mandate_expired");
    // A hold made inside the window still settles after it.
    expect((await acct.stub.capture({ holdId: hold, amount: 5 })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 5, pending: 0 });
  });

  it("mandate_service_not_allowed: a slug outside the list (or none)", async () => {
    const acct = await bound(1_000, { services: ["search", "translate-pro"] });
    await expectRefused(acct, 1, "mandate_service_not_allowed", { serviceSlug: "translate" });
    await expectRefused(acct, 1, "mandate_service_not_allowed", { serviceSlug: undefined });
    await reserveOk(acct, 1, { serviceSlug: "search" });
    await reserveOk(acct, 1, { serviceSlug: "translate-pro" });
    expect(await counters(acct)).toEqual({ spent: 0, pending: 2 });
  });

  it("mandate_per_call_exceeded: one over max_per_call; exactly max_per_call is held", async () => {
    const acct = await bound(1_000, { max_per_call: 40 });
    await expectRefused(acct, 41, "mandate_per_call_exceeded");
    await reserveOk(acct, 40);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 40 });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 40));
  });

  it("mandate_exceeded: posted + pending + this hold over max_total; exactly at the cap is held", async () => {
    const acct = await bound(1_000, { max_total: 25, max_per_call: 25 });
    const a = await reserveOk(acct, 10);
    expect((await acct.stub.capture({ holdId: a, amount: 10 })).ok).toBe(true); // spent 10
    await reserveOk(acct, 10); // pending 10
    expect(await counters(acct)).toEqual({ spent: 10, pending: 10 });
    await expectRefused(acct, 6, "mandate_exceeded");
    await reserveOk(acct, 5); // 10 + 10 + 5 = 25
    expect(await counters(acct)).toEqual({ spent: 10, pending: 15 });
    await expectRefused(acct, 1, "mandate_exceeded");
    expect(await acct.stub.balance()).toEqual(balanceOf(990, 15));
  });

  it("mandate_exceeded: the per-UTC-day cap, below the total cap", async () => {
    const acct = await bound(1_000, { max_total: 100, max_per_day: 15 });
    await reserveOk(acct, 10);
    await expectRefused(acct, 6, "mandate_exceeded");
    await reserveOk(acct, 5);
    await expectRefused(acct, 1, "mandate_exceeded");
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 0, pending: 15 }]);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 15 });
  });

  it("mandate_revoked: revocation is effective on the next call", async () => {
    const acct = await bound(1_000);
    const hold = await reserveOk(acct, 7);
    const revoked = mandateOf(await acct.stub.revokeMandate({ id: acct.mandate.id, actor: "owner" }));
    expect(revoked).toMatchObject({ id: acct.mandate.id, revoked_at: expect.any(String), pending: 7 });
    await expectRefused(acct, 1, "mandate_revoked");
    // A hold made before the revocation still resolves.
    expect((await acct.stub.capture({ holdId: hold, amount: 7 })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 7, pending: 0 });
    await expectRefused(acct, 1, "mandate_revoked");
  });

  it("the mandate is checked before the balance: an empty account still answers with the mandate's code", async () => {
    const acct = await bound(0, { max_per_call: 5 });
    await expectRefused(acct, 6, "mandate_per_call_exceeded");
    // Within the mandate, the balance decides (and the audit says so, with the mandate).
    const input = reserveInput(acct.keyHash, 5, { serviceSlug: SLUG });
    expect(await acct.stub.reserve(input)).toEqual({ ok: false, code: "insufficient_funds", price: 5, available: 0, currency: "USD" });
    expect(await lastAudit(acct)).toMatchObject({
      event: "hold",
      outcome: "refused",
      reason: "insufficient_funds",
      mandate_id: acct.mandate.id,
      request_id: input.requestId,
    });
    expect(await counters(acct)).toEqual({ spent: 0, pending: 0 });
  });
});

describe("counters follow the hold", () => {
  it("capture moves pending → spent (all time and on the hold's day); a partial capture frees the rest", async () => {
    const acct = await bound(1_000, { max_total: 50, max_per_day: 50 });
    const a = await reserveOk(acct, 30);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 30 });
    expect((await acct.stub.capture({ holdId: a, amount: 12 })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 12, pending: 0 });
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 12, pending: 0 }]);
    // 12 spent: 38 left, exactly.
    await expectRefused(acct, 39, "mandate_exceeded");
    await reserveOk(acct, 38);
    expect(await counters(acct)).toEqual({ spent: 12, pending: 38 });
    expect(await acct.stub.balance()).toEqual(balanceOf(988, 38));
  });

  it("a capture of zero spends nothing and releases the hold from the mandate", async () => {
    const acct = await bound(1_000, { max_total: 10, max_per_call: 10 });
    const a = await reserveOk(acct, 10);
    expect((await acct.stub.capture({ holdId: a, amount: 0 })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 0 });
    await reserveOk(acct, 10);
  });

  it("void releases the hold from the mandate and the day", async () => {
    const acct = await bound(1_000, { max_total: 10, max_per_call: 10, max_per_day: 10 });
    const a = await reserveOk(acct, 10);
    await expectRefused(acct, 1, "mandate_exceeded");
    expect((await acct.stub.release({ holdId: a, reason: "origin_failed" })).ok).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 0 });
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 0, pending: 0 }]);
    await reserveOk(acct, 10);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 10 });
  });

  it("expiry (the alarm) releases the hold from the mandate", async () => {
    const acct = await bound(1_000, { max_total: 10, max_per_call: 10 });
    const a = await reserveOk(acct, 10, { ttlMs: 1 });
    await sleep(5);
    // The alarm set for the expiry may already have run on its own; running it again is a no-op.
    if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
    expect(await acct.stub.hold(a)).toMatchObject({ state: "expired", reason: "hold_timeout", mandate_id: acct.mandate.id });
    expect(await counters(acct)).toEqual({ spent: 0, pending: 0 });
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 0, pending: 0 }]);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000, 0));
    await reserveOk(acct, 10);
  });

  it("a hold and its capture carry the mandate id; the transfer too", async () => {
    const acct = await bound(1_000);
    const a = await reserveOk(acct, 9);
    expect(await acct.stub.hold(a)).toMatchObject({ mandate_id: acct.mandate.id, agent_key_id: acct.keyId });
    const captured = await acct.stub.capture({ holdId: a, amount: 9 });
    expect(captured.ok && captured.transfer).toMatchObject({ kind: "capture", amount: 9, mandate_id: acct.mandate.id, agent_key_id: acct.keyId });
  });

  it("a key without a mandate is bounded only by the balance", async () => {
    const acct = await openAccount(1_000);
    const a = await acct.stub.reserve(reserveInput(acct.keyHash, 1_000));
    expect(a).toMatchObject({ ok: true, amount: 1_000, available: 0 });
    expect(await acct.stub.hold((a as Ok).hold_id)).toMatchObject({ mandate_id: null });
  });
});

describe("cost-allocation tags", () => {
  it("the call's tags and the mandate's (which win) are kept on the hold, the capture and D1's transfer and legs", async () => {
    const acct = await bound(1_000, { tags: { team: "growth", cost: "c1" } });
    const a = await reserveOk(acct, 20, { tags: { team: "hacked", session: "s1" } });
    const tags = { team: "growth", cost: "c1", session: "s1" };
    expect((await acct.stub.hold(a))?.tags).toEqual(tags);
    const captured = await acct.stub.capture({ holdId: a, amount: 20 });
    expect(captured.ok && captured.transfer?.tags).toEqual(tags);
    if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
    const t = await testEnv.DB.prepare("SELECT tags, mandate_id FROM transfers WHERE account_id = ? AND kind = 'capture'")
      .bind(acct.id)
      .all<{ tags: string; mandate_id: string }>();
    expect(t.results.map((r) => ({ tags: JSON.parse(r.tags), mandate_id: r.mandate_id }))).toEqual([{ tags, mandate_id: acct.mandate.id }]);
    const legs = await testEnv.DB.prepare(
      "SELECT l.tags FROM ledger_entries l JOIN transfers t ON t.id = l.transfer_id WHERE l.account_id = ? AND t.kind = 'capture' ORDER BY l.leg",
    )
      .bind(acct.id)
      .all<{ tags: string }>();
    expect(legs.results.map((r) => JSON.parse(r.tags))).toEqual([tags, tags]);
  });

  it("no tags anywhere: null on the hold and the transfer", async () => {
    const acct = await bound(1_000);
    const a = await reserveOk(acct, 1);
    expect((await acct.stub.hold(a))?.tags).toBeNull();
    const captured = await acct.stub.capture({ holdId: a, amount: 1 });
    expect(captured.ok && captured.transfer?.tags).toBeNull();
  });
});

describe("racing calls cannot overrun a mandate (I2, I9)", () => {
  it("max_total 10 on a balance of 1,000,000: 200 concurrent reserves of 1 → exactly 10 accepted", async () => {
    const acct = await bound(1_000_000, { max_total: 10, max_per_call: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, () => reserve(acct, 1)));
    const ok = results.filter((r): r is Ok => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(190);
    for (const r of refused) {
      expect(r).toEqual({
        ok: false,
        code: "mandate_exceeded",
        mandate_id: acct.mandate.id,
        detail: "The key's mandate refuses this call (mandate_exceeded).",
      });
    }
    expect(await counters(acct)).toEqual({ spent: 0, pending: 10 });
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000_000, 10));
    expect(await holdCount(acct)).toBe(10);

    // Capturing them all racing leaves the cap spent; nothing more fits.
    const caps = await Promise.all(ok.map((r) => acct.stub.capture({ holdId: r.hold_id, amount: 1 })));
    expect(caps.every((c) => c.ok)).toBe(true);
    expect(await counters(acct)).toEqual({ spent: 10, pending: 0 });
    expect(await acct.stub.balance()).toEqual(balanceOf(999_990, 0));
    const again = await Promise.all(Array.from({ length: 20 }, () => reserve(acct, 1)));
    expect(again.filter((r) => r.ok)).toHaveLength(0);

    // The trail has one accepted and one refused hold event per call, no more.
    const trail = (await acct.stub.auditEvents(1_000, null)).data.filter((e) => e.event === "hold");
    expect(trail.filter((e) => e.outcome === "accepted")).toHaveLength(10);
    expect(trail.filter((e) => e.outcome === "refused" && e.reason === "mandate_exceeded")).toHaveLength(210);
  });

  it("the per-day cap holds under a race too: max_per_day 7 → exactly 7", async () => {
    const acct = await bound(1_000_000, { max_total: 100, max_per_day: 7, max_per_call: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, () => reserve(acct, 1)));
    expect(results.filter((r) => r.ok)).toHaveLength(7);
    expect(await days(acct)).toEqual([{ day: utcDay(Date.now()), spent: 0, pending: 7 }]);
  });

  it("two keys on one mandate share its cap", async () => {
    const acct = await bound(1_000_000, { max_total: 10, max_per_call: 1 });
    const otherHash = `hash_${randomToken(32)}`;
    expect((await acct.stub.createAgentKey({ id: newId("ak"), name: "second", keyHash: otherHash, mandateId: acct.mandate.id, actor: "owner" })).ok).toBe(true);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => acct.stub.reserve(reserveInput(i % 2 ? otherHash : acct.keyHash, 1, { serviceSlug: SLUG }))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(await counters(acct)).toEqual({ spent: 0, pending: 10 });
  });
});

describe("keys and mandates", () => {
  it("a key cannot be bound to a revoked mandate, an unknown one, or another account's", async () => {
    const acct = await bound(0);
    const other = await bound(0);
    expect(mandateOf(await acct.stub.revokeMandate({ id: acct.mandate.id, actor: "owner" }))).toMatchObject({ revoked_at: expect.any(String) });
    const keys = async () => (await acct.stub.agentKeys(100, null)).data.length;
    const before = await keys();
    expect(
      await acct.stub.createAgentKey({ id: newId("ak"), name: "late", keyHash: `hash_${randomToken(32)}`, mandateId: acct.mandate.id, actor: "owner" }),
    ).toEqual({ ok: false, code: "mandate_revoked" });
    expect(
      await acct.stub.createAgentKey({ id: newId("ak"), name: "x", keyHash: `hash_${randomToken(32)}`, mandateId: "mnd_00000000000000000000", actor: "owner" }),
    ).toEqual({ ok: false, code: "mandate_not_found" });
    expect(
      await acct.stub.createAgentKey({ id: newId("ak"), name: "x", keyHash: `hash_${randomToken(32)}`, mandateId: other.mandate.id, actor: "owner" }),
    ).toEqual({ ok: false, code: "mandate_not_found" });
    expect(await keys()).toBe(before);
  });

  it("revoking twice keeps the first revocation and audits it once", async () => {
    const acct = await bound(0);
    const first = mandateOf(await acct.stub.revokeMandate({ id: acct.mandate.id, actor: "owner" }));
    await sleep(2);
    const second = mandateOf(await acct.stub.revokeMandate({ id: acct.mandate.id, actor: "operator" }));
    expect(second).toEqual(first);
    const revocations = (await acct.stub.auditEvents(100, null)).data.filter((e) => e.event === "mandate_revoked");
    expect(revocations).toHaveLength(1);
    expect(revocations[0]).toMatchObject({ actor: "owner", mandate_id: acct.mandate.id, intent_hash: sha256Hex(INTENT), outcome: "ok" });
  });

  it("the agent's own view shows its mandate", async () => {
    const acct = await bound(50);
    expect(await acct.stub.agent(acct.keyHash)).toMatchObject({
      ok: true,
      account_id: acct.id,
      key: { id: acct.keyId, mandate_id: acct.mandate.id },
      mandate: { id: acct.mandate.id, spent: 0 },
      mandate_used_today: 0,
    });
  });

  it("the agent's own view counts what the daily cap counts today: holds in flight and spending", async () => {
    const acct = await bound(50);
    await reserveOk(acct, 7);
    await reserveOk(acct, 5);
    expect(await acct.stub.agent(acct.keyHash)).toMatchObject({ ok: true, mandate: { pending: 12 }, mandate_used_today: 12 });
  });
});
