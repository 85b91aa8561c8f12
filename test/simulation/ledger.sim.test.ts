/**
 * Seeded, model-based simulation of one AccountLedger (I1–I14 under faults). A hot account's
 * leases between its ledger and its shards (I17) have their own: shards.sim.test.ts.
 *
 * fast-check generates sequences of up to MAX_STEPS operations — credits (with idempotency keys,
 * repeated = duplicate delivery, same key with another body, bursts of the same key at once),
 * reserves (amounts up to and over what is available, live, revoked and unknown keys, proxied-call
 * idempotency keys, bursts that race for the balance), captures (0, part, all, more, twice), voids,
 * refunds (part, the rest, more than is left), disputes (compensated or not) and their decisions
 * (once, or both ways at once),
 * expiries (a 1 ms hold, or time passing for several holds, then the alarm), alarm runs (export,
 * delivered twice), crashes between steps (`abortAllDurableObjects`, `evictDurableObject`; both
 * reach only this test file's objects), crashes *during* a credit, a capture and
 * an export (the caller retries), D1 failing during export (a trigger on one D1 table refuses the
 * account's rows) and lost export cursors (as if the object died after D1 committed). Each run is a
 * fresh account driven through its real RPC surface, against the reference model in model.ts.
 *
 * After every step: the balance (posted, pending, available) and the raw balance row equal the
 * model's and never overdraw (I2); every hold has the model's state and resolved at most once, with
 * one accepted-hold event and at most one final event on the trail (I4, I13); the journal is
 * gapless 1..N (I8) and equals the model's, each hold captured into at most one transfer; the audit
 * chain verifies and holds exactly the model's events (I5); D1 holds a prefix of the journal at
 * least as long as the export cursor, each transfer with legs that sum to zero (I1, I6, I7), and a
 * prefix of the audit chain that verifies on its own. After an alarm with D1 healthy: D1 holds
 * exactly the journal and the trail, nothing doubled, the account's legs sum to its posted balance.
 * After an alarm with D1 failing: the cursors did not move and a retry alarm is set.
 *
 * Reproducing a failure. fast-check prints, on failure, `seed`, `path` and a counterexample whose
 * command list ends with a comment holding its `replayPath`, e.g. (comment shown as <…>):
 *
 *   Property failed after 7 tests
 *   { seed: 20260702, path: "8:2:1:1", endOnFailure: true }
 *   Counterexample: [BreakD1(transfers),Credit(1,key=null,ref=null),Alarm(scheduled,twice) <replayPath="SCQAj:V">]
 *
 * Run just that case (workerd tests do not see the shell's environment, so vitest.config.mts
 * passes these variables to the test through `provide`):
 *
 *   SIM_SEED=20260702 SIM_PATH="8:2:1:1" SIM_REPLAY_PATH="SCQAj:V" \
 *     npx vitest run --project workers test/simulation
 *
 * or paste them into the defaults below (`fc.assert(..., { seed, path })` and
 * `fc.commands(..., { replayPath })`). Other knobs: SIM_RUNS (runs, default 50) and SIM_STEPS
 * (most steps per run, default 25). After the steps, every run settles its holds, restores D1,
 * crashes once more and runs the alarm twice. The fixed default seed keeps CI deterministic up to
 * real-time alarm timing, which the checks tolerate (an export that fires on its own only moves D1
 * forward).
 */
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import type { AuditEvent, CreditResult, Transfer } from "../../durable-objects/types";
import { toAuditRecord, verifyChain, type AuditRecord } from "../../core/audit-chain";
import { newId, randomToken } from "../../core/ids";
import { legsOf } from "../../core/legs";
import { oldestFirst } from "../../worker/reports/pages";
import type { LedgerStub } from "../../worker/account-client/stub";
import { keyOf, ledger, sleep, testEnv } from "../durable-objects/helpers";
import { type AuditExpect, fingerprintOf, LedgerModel, type ModelHold, type StoredCall } from "./model";

declare module "vitest" {
  // biome-ignore lint/suspicious/noExportsInTest: a module augmentation (vitest's provide/inject types), not a test export
  export interface ProvidedContext {
    SIM_SEED: string;
    SIM_RUNS: string;
    SIM_STEPS: string;
    SIM_PATH: string;
    SIM_REPLAY_PATH: string;
  }
}

/** Provided by vitest.config.mts from the environment; absent when run with another config. */
function knob(name: "SIM_SEED" | "SIM_RUNS" | "SIM_STEPS" | "SIM_PATH" | "SIM_REPLAY_PATH"): string {
  try {
    return String(inject(name) ?? "");
  } catch {
    return "";
  }
}

const DEFAULT_SEED = 20_260_702;
const SEED = Number(knob("SIM_SEED") || DEFAULT_SEED);
const RUNS = Number(knob("SIM_RUNS") || 50);
const MAX_STEPS = Number(knob("SIM_STEPS") || 25);
const PATH = knob("SIM_PATH") || undefined;
const REPLAY_PATH = knob("SIM_REPLAY_PATH") || undefined;

const UNKNOWN_KEY_HASH = "hash_never_issued";
const PROVIDERS = ["prov_sim_a", "prov_sim_b"] as const;
const FEES = [0, 250, 10_000] as const;

type Real = { accountId: string; stub: LedgerStub };

/** Statistics for the summary line. */
let runs = 0;
let steps = 0;
let stepsThisRun = 0;
let crashes = 0;
let alarms = 0;
/** How often each outcome happened (printed at the end: proof the generator reaches each case). */
const tally = new Map<string, number>();
const count = (label: string) => tally.set(label, (tally.get(label) ?? 0) + 1);
// biome-ignore lint/suspicious/noConfusingVoidType: most steps report nothing and simply return
type Outcome = { exportedAll?: boolean } | void;

// ---------------------------------------------------------------------------------------------
// Reading the real object and D1
// ---------------------------------------------------------------------------------------------

const fullJournal = (stub: LedgerStub): Promise<Transfer[]> => oldestFirst((cursor) => stub.transfers(100, cursor));
const fullAudit = (stub: LedgerStub): Promise<AuditEvent[]> => oldestFirst((cursor) => stub.auditEvents(100, cursor));

const asRecord = (e: AuditEvent): AuditRecord => ({ ...e, at: Date.parse(e.at) });

/** Storage as the object itself sees it, read in one synchronous go (no interleaving). */
function rawState(stub: LedgerStub) {
  return runInDurableObject(stub, async (_i: AccountLedger, state) => {
    const sql = state.storage.sql;
    const balance = sql.exec<{ credits: number; debits: number; pending: number }>("SELECT credits, debits, pending FROM balance WHERE id = 1").one();
    const holds = sql
      .exec<{ id: string; request_id: string; state: string; amount: number; captured: number | null; reason: string | null }>(
        "SELECT id, request_id, state, amount, captured, reason FROM holds",
      )
      .toArray();
    const cursor = sql.exec<{ e: number; a: number }>("SELECT exported_seq AS e, audit_exported_seq AS a FROM export_state WHERE id = 1").one();
    const alarm = await state.storage.getAlarm();
    return { balance: { ...balance }, holds: holds.map((h) => ({ ...h })), cursor: { ...cursor }, alarm };
  });
}

async function d1State(accountId: string) {
  const db = testEnv.DB;
  const [transfers, legs, audit] = await Promise.all([
    db.prepare("SELECT seq, id, kind, amount, fee, currency, hold_id, provider_id FROM transfers WHERE account_id = ? ORDER BY seq").bind(accountId).all(),
    db.prepare("SELECT seq, leg, transfer_id, ledger_account, amount FROM ledger_entries WHERE account_id = ? ORDER BY seq, leg").bind(accountId).all(),
    db.prepare("SELECT * FROM audit_events WHERE account_id = ? ORDER BY seq").bind(accountId).all(),
  ]);
  return {
    transfers: transfers.results as Record<string, unknown>[],
    legs: legs.results as Record<string, unknown>[],
    audit: audit.results as Record<string, unknown>[],
  };
}

/** Everything D1 holds for the account, byte for byte (to prove a second delivery changed nothing). */
async function d1Dump(accountId: string) {
  const db = testEnv.DB;
  const q = (table: string) => db.prepare(`SELECT * FROM ${table} WHERE account_id = ? ORDER BY 1, 2, 3`).bind(accountId).all();
  const [t, l, a] = await Promise.all([q("transfers"), q("ledger_entries"), q("audit_events")]);
  return { t: t.results, l: l.results, a: a.results };
}

// ---------------------------------------------------------------------------------------------
// The invariants, checked after every step
// ---------------------------------------------------------------------------------------------

const pickAudit = (e: AuditEvent): AuditExpect => ({ event: e.event, outcome: e.outcome, amount: e.amount, request_id: e.request_id, reason: e.reason });
const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

async function checkAll(m: LedgerModel, r: Real, o: { exportedAll?: boolean }): Promise<void> {
  m.assertSane();

  // Balance through RPC and in storage (I2: debits + pending ≤ credits, all non-negative).
  expect(await r.stub.balance(), "balance").toEqual(m.balance);
  const raw = await rawState(r.stub);
  expect(raw.balance, "balance row").toEqual({ credits: m.credits, debits: m.debits, pending: m.pending });
  expect(raw.balance.debits + raw.balance.pending).toBeLessThanOrEqual(raw.balance.credits);

  // Holds: exactly the model's, each in the model's state (I4).
  const realHolds = new Map(raw.holds.map((h) => [h.id, h]));
  expect(realHolds.size, "hold count").toBe(m.holds.length);
  for (const h of m.holds) {
    expect(realHolds.get(h.id), `hold ${h.id}`).toEqual({
      id: h.id,
      request_id: h.requestId,
      state: h.state,
      amount: h.amount,
      captured: h.captured,
      reason: h.reason,
    });
    if (h.captured !== null) expect(h.captured).toBeLessThanOrEqual(h.amount);
  }

  // The journal: gapless 1..N (I8), the model's transfers, one capture per hold at most (I4).
  const journal = await fullJournal(r.stub);
  expect(
    journal.map((t) => t.seq),
    "journal seq",
  ).toEqual(journal.map((_, i) => i + 1));
  expect(journal.length, "journal length").toBe(m.journal.length);
  m.journal.forEach((t, i) => {
    const real = journal[i] as Transfer;
    t.id ??= real.id; // a transfer whose first answer was lost to a crash: adopt its id once
    expect({ id: real.id, kind: real.kind, amount: real.amount, fee: real.fee, holdId: real.hold_id, currency: real.currency }, `transfer ${i + 1}`).toEqual({
      ...t,
      currency: "USD",
    });
  });
  const captured = journal.filter((t) => t.kind === "capture").map((t) => t.hold_id);
  expect(new Set(captured).size, "one capture per hold").toBe(captured.length);
  const sum = journal.reduce((s, t) => s + (t.kind === "capture" || t.kind === "repayment" ? -t.amount : t.amount), 0);
  expect(sum, "journal sums to posted (I1)").toBe(m.posted);

  // The audit trail: a verifying chain with exactly the model's events (I5), and every hold's
  // reservation on it once, with at most one final state (I4, I13).
  const audit = await fullAudit(r.stub);
  const chain = verifyChain(audit.map(asRecord));
  expect(chain, "audit chain").toMatchObject({ ok: true, checked: m.auditLength });
  let i = 0;
  for (const step of m.audit) {
    if ("unordered" in step) {
      const got = audit
        .slice(i, i + step.unordered.length)
        .map(pickAudit)
        .sort(byJson);
      expect(got, `audit events ${i + 1}..${i + step.unordered.length}`).toEqual([...step.unordered].sort(byJson));
      i += step.unordered.length;
    } else {
      expect(pickAudit(audit[i] as AuditEvent), `audit event ${i + 1}`).toEqual(step);
      i += 1;
    }
  }
  for (const h of m.holds) {
    const mine = audit.filter((e) => e.request_id === h.requestId);
    expect(
      mine.filter((e) => e.event === "hold" && e.outcome === "accepted"),
      `hold ${h.id} reserved once`,
    ).toHaveLength(1);
    expect(
      mine.filter((e) => ["capture", "void", "expiry"].includes(e.event)),
      `hold ${h.id} resolved`,
    ).toHaveLength(h.state === "pending" ? 0 : 1);
  }

  // Export cursors (I7): never ahead of the journal or the trail.
  const cursor = await r.stub.exportCursor();
  const head = await r.stub.auditHead();
  expect(cursor?.journal_seq).toBe(m.journal.length);
  expect(cursor!.exported_seq).toBeLessThanOrEqual(m.journal.length);
  expect(head).toMatchObject({ seq: m.auditLength, hash: chain.ok ? (m.auditLength ? chain.head_hash : null) : "broken" });
  expect(head!.exported_seq).toBeLessThanOrEqual(m.auditLength);

  // D1: a prefix of the journal at least as long as the cursor; legs sum to zero (I1, I6, I7).
  const d1 = await d1State(r.accountId);
  expect(d1.transfers.length, "D1 has what the cursor says it has").toBeGreaterThanOrEqual(cursor!.exported_seq);
  expect(d1.transfers.length, "D1 has nothing the DO lacks").toBeLessThanOrEqual(journal.length);
  const expectedLegs: Record<string, unknown>[] = [];
  d1.transfers.forEach((row, k) => {
    const t = journal[k] as Transfer;
    expect(row, `D1 transfer ${k + 1}`).toEqual({
      seq: t.seq,
      id: t.id,
      kind: t.kind,
      amount: t.amount,
      fee: t.fee,
      currency: "USD",
      hold_id: t.hold_id,
      provider_id: t.provider_id,
    });
    for (const [n, leg] of legsOf(r.accountId, t).entries()) {
      expectedLegs.push({ seq: t.seq, leg: n, transfer_id: t.id, ledger_account: leg.ledgerAccount, amount: leg.amount });
    }
  });
  expect(d1.legs, "D1 legs: every exported transfer's, and only those").toEqual(expectedLegs);
  for (const t of d1.transfers) {
    expect(
      d1.legs.filter((l) => l.seq === t.seq).reduce((s, l) => s + Number(l.amount), 0),
      `legs of ${t.seq} sum to 0`,
    ).toBe(0);
  }
  const d1Audit = d1.audit.map(toAuditRecord);
  expect(d1Audit.length).toBeGreaterThanOrEqual(head!.exported_seq);
  expect(d1Audit, "D1 audit is a prefix of the DO's").toEqual(audit.slice(0, d1Audit.length).map(asRecord));
  expect(verifyChain(d1Audit).ok, "D1 audit chain").toBe(true);

  if (o.exportedAll) {
    expect(cursor!.exported_seq, "everything exported").toBe(m.journal.length);
    expect(head!.exported_seq, "the whole trail exported").toBe(m.auditLength);
    expect(d1.transfers).toHaveLength(m.journal.length);
    expect(d1Audit).toHaveLength(m.auditLength);
    const posted = d1.legs.filter((l) => l.ledger_account === r.accountId).reduce((s, l) => s + Number(l.amount), 0);
    expect(posted, "D1 balance of the account = posted").toBe(m.posted);
  }
  const total = await testEnv.DB.prepare("SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_entries").first<{ s: number }>();
  expect(Number(total?.s), "all of D1 sums to zero (I1)").toBe(0);
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

async function crash(r: Real, kind: "abort" | "evict"): Promise<void> {
  if (kind === "abort") await abortAllDurableObjects();
  else await evictDurableObject(r.stub).catch(() => undefined); // not running: nothing to evict
  r.stub = ledger(r.accountId); // a stub of an aborted object is broken; callers get a new one
}

async function breakD1(m: LedgerModel, table: "transfers" | "ledger_entries" | "audit_events"): Promise<void> {
  const trigger = `sim_fail_${m.accountId}`;
  await testEnv.DB.prepare(
    `CREATE TRIGGER ${trigger} BEFORE INSERT ON ${table} WHEN NEW.account_id = '${m.accountId}' BEGIN SELECT RAISE(ABORT, 'simulated D1 outage'); END`,
  ).run();
  m.d1Fault = { table, trigger };
}

async function restoreD1(m: LedgerModel): Promise<void> {
  if (!m.d1Fault) return;
  await testEnv.DB.prepare(`DROP TRIGGER IF EXISTS ${m.d1Fault.trigger}`).run();
  m.d1Fault = null;
}

async function runAlarm(r: Real, how: "scheduled" | "direct"): Promise<void> {
  if (how === "scheduled" && (await runDurableObjectAlarm(r.stub))) return;
  await runInDurableObject(r.stub, (instance: AccountLedger) => instance.alarm());
}

/**
 * One alarm (and, if `twice`, its duplicate delivery). Overdue holds expire; the export either
 * lands everything, or — when the injected D1 fault refuses a row it must send — moves nothing
 * and leaves a retry alarm.
 */
async function alarmStep(m: LedgerModel, r: Real, how: "scheduled" | "direct", twice: boolean): Promise<Outcome> {
  await sleep(3); // every 1 ms hold of this step is overdue
  const before = (await rawState(r.stub)).cursor;
  m.expireOverdue();
  m.alarms++;
  const fault = m.d1Fault;
  const fails =
    fault !== null && ((fault.table === "audit_events" && m.auditLength > before.a) || (fault.table !== "audit_events" && m.journal.length > before.e));
  count(fails ? "export:failed" : m.d1Fault ? "export:ok-despite-fault" : "export:ok");
  await runAlarm(r, how);
  if (twice) {
    const once = await d1Dump(r.accountId);
    await runAlarm(r, "direct");
    expect(await d1Dump(r.accountId), "an alarm delivered twice changes nothing").toEqual(once);
  }
  if (!fails) return { exportedAll: true };
  const after = await rawState(r.stub);
  expect(after.cursor, "a failed export moves no cursor").toEqual(before);
  expect(after.alarm, "a failed export schedules its retry").not.toBeNull();
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

type AmountSpec = { abs: number } | { rel: "all" | "over" } | { frac: number };
const amountSpec: fc.Arbitrary<AmountSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3_000 }).map((abs) => ({ abs })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 1_000_000).map((abs) => ({ abs })) },
  { weight: 2, arbitrary: fc.constantFrom<"all" | "over">("all", "over").map((rel) => ({ rel })) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((frac) => ({ frac })) },
);
function resolve(spec: AmountSpec, available: number): number {
  if ("abs" in spec) return spec.abs;
  if ("frac" in spec) return Math.floor(available * spec.frac);
  return spec.rel === "all" ? available : available + 1;
}
const showSpec = (s: AmountSpec) => ("abs" in s ? String(s.abs) : "frac" in s ? `${s.frac.toFixed(2)}×avail` : s.rel);

abstract class Step implements fc.AsyncCommand<LedgerModel, Real> {
  check(_m: Readonly<LedgerModel>): boolean {
    return true;
  }
  protected abstract act(m: LedgerModel, r: Real): Promise<Outcome>;
  async run(m: LedgerModel, r: Real): Promise<void> {
    stepsThisRun++;
    count(`step:${this.constructor.name}`);
    const outcome = await this.act(m, r);
    await checkAll(m, r, outcome ?? {});
  }
  abstract toString(): string;
}

async function sendCredit(m: LedgerModel, r: Real, amount: number, reference: string | null, key: string | null): Promise<void> {
  const expected = m.credit(amount, reference, key);
  m.lastCredit = { amount, reference, idempotencyKey: key };
  const res = await r.stub.credit({ actor: "operator", amount, reference, idempotencyKey: key, fingerprint: fingerprintOf(amount, reference) });
  count(`credit:${expected.kind}`);
  switch (expected.kind) {
    case "new": {
      expect(res).toMatchObject({ ok: true, replayed: false, transfer: { kind: "credit", amount, fee: 0, seq: m.journal.length }, balance: m.balance });
      (m.journal.at(-1) as { id: string | null }).id = (res as Extract<CreditResult, { ok: true }>).transfer.id;
      if (key) m.rememberCredit(key, amount, reference, res);
      break;
    }
    case "replay":
      expect(res, "a duplicate delivery replays the first answer (I3)").toEqual({ ...(expected.first as object), replayed: true });
      break;
    case "mismatch":
      expect(res, "same key, other body (I3)").toEqual({ ok: false, code: "idempotency_mismatch" });
      break;
    default:
      throw new Error("unreachable");
  }
}

class Credit extends Step {
  constructor(
    readonly amount: number,
    readonly key: string | null,
    readonly reference: string | null,
  ) {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    await sendCredit(m, r, this.amount, this.reference, this.key);
  }
  toString() {
    return `Credit(${this.amount},key=${this.key},ref=${this.reference})`;
  }
}

/** Duplicate delivery: exactly the last keyed credit again. */
class RepeatCredit extends Step {
  override check(m: Readonly<LedgerModel>) {
    return m.lastCredit?.idempotencyKey != null;
  }
  protected async act(m: LedgerModel, r: Real) {
    const c = m.lastCredit!;
    await sendCredit(m, r, c.amount, c.reference, c.idempotencyKey);
  }
  toString() {
    return "RepeatCredit";
  }
}

/** The same key sent n times at once: one transfer, n identical answers. */
class CreditBurst extends Step {
  constructor(
    readonly n: number,
    readonly amount: number,
  ) {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    const key = `burst-${m.journal.length}-${m.auditLength}`;
    const input = {
      actor: "operator" as const,
      amount: this.amount,
      reference: "burst",
      idempotencyKey: key,
      fingerprint: fingerprintOf(this.amount, "burst"),
    };
    const results = await Promise.all(Array.from({ length: this.n }, () => r.stub.credit(input)));
    const ok = results.filter((x): x is Extract<CreditResult, { ok: true }> => x.ok);
    expect(ok).toHaveLength(this.n);
    expect(
      ok.filter((x) => !x.replayed),
      "exactly one of a burst is new",
    ).toHaveLength(1);
    expect(new Set(ok.map((x) => x.transfer.id)).size).toBe(1);
    m.credit(this.amount, "burst", key);
    const first = ok.find((x) => !x.replayed)!;
    (m.journal.at(-1) as { id: string | null }).id = first.transfer.id;
    m.rememberCredit(key, this.amount, "burst", first);
    m.lastCredit = { amount: this.amount, reference: "burst", idempotencyKey: key };
  }
  toString() {
    return `CreditBurst(${this.n}x${this.amount})`;
  }
}

function keyHash(m: LedgerModel, keyIdx: number): string {
  return m.keys[keyIdx]?.hash ?? UNKNOWN_KEY_HASH;
}

class Reserve extends Step {
  constructor(
    readonly keyIdx: number,
    readonly spec: AmountSpec,
    readonly feeIdx: number,
    readonly providerIdx: number,
    readonly idemKey: string | null,
    readonly tiny = false,
    /** Which call the idempotency key is sent with: the same call again, or another one. */
    readonly call = "a",
  ) {
    super();
  }
  protected async act(m: LedgerModel, r: Real): Promise<Outcome> {
    await this.reserve(m, r);
  }
  protected async reserve(m: LedgerModel, r: Real): Promise<ModelHold | null> {
    const amount = resolve(this.spec, m.available);
    const requestId = newId("req");
    const idem = this.idemKey ? { key: this.idemKey, fingerprint: `call:${this.call}` } : null;
    const feeBps = FEES[this.feeIdx] as number;
    const providerId = PROVIDERS[this.providerIdx] as string;
    const expected = m.reserve(this.keyIdx, amount, requestId, idem);
    const res = await r.stub.reserve({
      keyHash: keyHash(m, this.keyIdx),
      requestId,
      serviceId: "svc_sim",
      providerId,
      feeBps,
      amount,
      currency: "USD",
      ttlMs: this.tiny ? 1 : 60_000,
      idempotency: idem,
    });
    count(`reserve:${expected.kind}`);
    switch (expected.kind) {
      case "ok": {
        expect(res).toMatchObject({ ok: true, amount, available: expected.available, currency: "USD", agent_key_id: m.keys[this.keyIdx]?.id });
        if (!res.ok) throw new Error("unreachable");
        return m.addHold({ id: res.hold_id, requestId, keyIdx: this.keyIdx, amount, feeBps, providerId, tiny: this.tiny }, idem);
      }
      case "insufficient_funds":
        expect(res, "no overdraft (I2)").toEqual({ ok: false, code: "insufficient_funds", price: amount, available: expected.available, currency: "USD" });
        return null;
      case "idempotency_replay":
        expect(res).toEqual({ ok: false, code: "idempotency_replay", response: expected.response });
        return null;
      default:
        expect(res).toEqual({ ok: false, code: expected.kind });
        return null;
    }
  }
  toString() {
    return `Reserve(key=${this.keyIdx},${showSpec(this.spec)},fee=${FEES[this.feeIdx]},${PROVIDERS[this.providerIdx]}${this.idemKey ? `,idem=${this.idemKey}/${this.call}` : ""})`;
  }
}

/** Time passes: a 1 ms hold, then the alarm expires it (and exports). */
class ReserveThenExpire extends Reserve {
  constructor(
    keyIdx: number,
    spec: AmountSpec,
    readonly how: "scheduled" | "direct",
  ) {
    super(keyIdx, spec, 0, 0, null, true);
  }
  protected override async act(m: LedgerModel, r: Real): Promise<Outcome> {
    const hold = await this.reserve(m, r);
    const outcome = await alarmStep(m, r, this.how, false);
    if (hold) expect(await r.stub.hold(hold.id), "an overdue hold expires (I10)").toMatchObject({ state: "expired", reason: "hold_timeout" });
    return outcome;
  }
  override toString() {
    return `ReserveThenExpire(key=${this.keyIdx},${showSpec(this.spec)},${this.how})`;
  }
}

/** Time passes for some pending holds (their expiry moves into the past), then the alarm runs. */
class TimePasses extends Step {
  constructor(
    readonly picks: number[],
    readonly how: "scheduled" | "direct",
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return m.holds.some((h) => h.state === "pending");
  }
  protected async act(m: LedgerModel, r: Real): Promise<Outcome> {
    const pending = m.holds.filter((h) => h.state === "pending");
    const due = [...new Set(this.picks.map((p) => pending[p % pending.length] as ModelHold))];
    await runInDurableObject(r.stub, (_i: AccountLedger, state) => {
      for (const h of due) state.storage.sql.exec("UPDATE holds SET expires_at = ? WHERE id = ?", Date.now() - 1, h.id);
    });
    for (const h of due) h.tiny = true;
    const outcome = await alarmStep(m, r, this.how, false);
    for (const h of due) expect(await r.stub.hold(h.id), "an overdue hold expires (I10)").toMatchObject({ state: "expired", reason: "hold_timeout" });
    return outcome;
  }
  toString() {
    return `TimePasses(${this.picks.map((p) => `hold#${p}`).join(",")},${this.how})`;
  }
}

/** Racing reserves of one amount: exactly as many succeed as the balance covers (I2). */
class ReserveBurst extends Step {
  constructor(
    readonly n: number,
    readonly spec: AmountSpec,
  ) {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    const amount = resolve(this.spec, m.available);
    const fits = amount === 0 ? this.n : Math.min(this.n, Math.floor(m.available / amount));
    const requestIds = Array.from({ length: this.n }, () => newId("req"));
    const results = await Promise.all(
      requestIds.map((requestId) =>
        r.stub.reserve({
          keyHash: keyHash(m, 0),
          requestId,
          serviceId: "svc_sim",
          providerId: PROVIDERS[0],
          feeBps: 0,
          amount,
          currency: "USD",
          ttlMs: 60_000,
        }),
      ),
    );
    expect(
      results.filter((x) => x.ok),
      "racing reserves",
    ).toHaveLength(fits);
    const events: AuditExpect[] = [];
    results.forEach((res, k) => {
      const requestId = requestIds[k] as string;
      if (res.ok) {
        m.addHold({ id: res.hold_id, requestId, keyIdx: 0, amount, feeBps: 0, providerId: PROVIDERS[0], tiny: false }, null, false);
        events.push({ event: "hold", outcome: "accepted", amount, request_id: requestId, reason: "no_mandate" });
      } else {
        expect(res).toMatchObject({ ok: false, code: "insufficient_funds" });
        events.push({ event: "hold", outcome: "refused", amount, request_id: requestId, reason: "insufficient_funds" });
      }
    });
    m.audit.push({ unordered: events });
  }
  toString() {
    return `ReserveBurst(${this.n}x${showSpec(this.spec)})`;
  }
}

type CaptureSpec = "zero" | "part" | "all" | "over";
function captureAmount(hold: ModelHold | undefined, spec: CaptureSpec, frac: number): number {
  const held = hold?.amount ?? 100;
  if (spec === "zero") return 0;
  if (spec === "part") return Math.floor(held * frac);
  if (spec === "all") return held;
  return held + 1 + Math.floor(frac * 1_000);
}
const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);

/** Which hold a step acts on: mostly a pending one, sometimes any (resolved ones too), rarely none. */
type HoldPick = { n: number; from: "pending" | "any" | "unknown" };
const holdPick: fc.Arbitrary<HoldPick> = fc.record({
  n: fc.nat({ max: 1_000 }),
  from: fc.constantFrom<HoldPick["from"]>("pending", "pending", "pending", "any", "any", "unknown"),
});
function pickHold(m: Readonly<LedgerModel>, p: HoldPick): ModelHold | undefined {
  if (p.from === "unknown") return undefined;
  const pending = m.holds.filter((h) => h.state === "pending");
  return pick(p.from === "pending" && pending.length > 0 ? pending : m.holds, p.n);
}
const showPick = (p: HoldPick) => (p.from === "unknown" ? "unknown" : `${p.from}#${p.n}`);

function expectCapture(
  m: LedgerModel,
  expected: ReturnType<LedgerModel["capture"]>,
  res: Awaited<ReturnType<LedgerStub["capture"]>>,
  hold: ModelHold | undefined,
  amount: number,
) {
  count(`capture:${expected.kind}${expected.kind === "hold_not_pending" ? `:${expected.state}` : ""}`);
  switch (expected.kind) {
    case "ok": {
      expect(res).toMatchObject({ ok: true, hold: { id: hold!.id, state: "captured", captured: amount }, balance: m.balance });
      if (!res.ok) throw new Error("unreachable");
      if (expected.transfer) {
        expect(res.transfer).toMatchObject({
          kind: "capture",
          amount,
          fee: expected.fee,
          hold_id: hold!.id,
          seq: m.journal.length,
          provider_id: hold!.providerId,
        });
        (m.journal.at(-1) as { id: string | null }).id = res.transfer!.id;
      } else expect(res.transfer, "a zero capture moves no money").toBeNull();
      break;
    }
    case "hold_not_pending":
      expect(res, "a hold resolves once (I4)").toEqual({ ok: false, code: "hold_not_pending", state: expected.state });
      break;
    default:
      expect(res).toEqual({ ok: false, code: expected.kind });
  }
}

class Capture extends Step {
  constructor(
    readonly holdPick: HoldPick,
    readonly spec: CaptureSpec,
    readonly frac: number,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return this.holdPick.from === "unknown" || m.holds.length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const hold = pickHold(m, this.holdPick);
    const amount = captureAmount(hold, this.spec, this.frac);
    const expected = m.capture(hold, amount);
    const res = await r.stub.capture({ holdId: hold?.id ?? "hold_unknown", amount });
    expectCapture(m, expected, res, hold, amount);
  }
  toString() {
    return `Capture(${showPick(this.holdPick)},${this.spec}${this.spec === "part" ? `:${this.frac.toFixed(2)}` : ""})`;
  }
}

class Void extends Step {
  constructor(
    readonly holdPick: HoldPick,
    readonly reason: string,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return this.holdPick.from === "unknown" || m.holds.length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const hold = pickHold(m, this.holdPick);
    const expected = m.void(hold, this.reason);
    const res = await r.stub.release({ holdId: hold?.id ?? "hold_unknown", reason: this.reason });
    count(`void:${expected.kind}`);
    if (expected.kind === "ok") expect(res).toMatchObject({ ok: true, hold: { id: hold!.id, state: "voided", captured: null }, balance: m.balance });
    else if (expected.kind === "hold_not_pending")
      expect(res, "a hold resolves once (I4)").toEqual({ ok: false, code: "hold_not_pending", state: expected.state });
    else expect(res).toEqual({ ok: false, code: "unknown_hold" });
  }
  toString() {
    return `Void(${showPick(this.holdPick)},${this.reason})`;
  }
}

/** A settled idempotent call keeps its response; a retry with its key then gets it back. */
class KeepResponse extends Step {
  constructor(readonly n: number) {
    super();
  }
  private candidates(m: Readonly<LedgerModel>) {
    return [...m.callKeys.values()].filter((c) => c.response === null && m.holds[c.holdIdx]?.state === "captured");
  }
  override check(m: Readonly<LedgerModel>) {
    return this.candidates(m).length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const ck = pick(this.candidates(m), this.n)!;
    const hold = m.holds[ck.holdIdx] as ModelHold;
    const response: StoredCall = {
      status: 200,
      headers: { "content-type": "application/json" },
      body: `{"n":${this.n}}`,
      request_id: hold.requestId,
      charge: hold.captured,
    };
    await r.stub.keepResponse(hold.id, response);
    ck.response = response;
  }
  toString() {
    return `KeepResponse(#${this.n})`;
  }
}

class RevokeKey extends Step {
  constructor(readonly keyIdx: number) {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    const key = m.keys[this.keyIdx]!;
    m.revoke(this.keyIdx);
    expect(keyOf(await r.stub.revokeAgentKey({ id: key.id, actor: "owner" }))).toMatchObject({ id: key.id, revoked_at: expect.any(String) });
  }
  toString() {
    return `RevokeKey(${this.keyIdx})`;
  }
}

class Alarm extends Step {
  constructor(
    readonly how: "scheduled" | "direct",
    readonly twice: boolean,
  ) {
    super();
  }
  protected act(m: LedgerModel, r: Real) {
    return alarmStep(m, r, this.how, this.twice);
  }
  toString() {
    return `Alarm(${this.how}${this.twice ? ",twice" : ""})`;
  }
}

/** The object dies between steps and must come back from storage alone. */
class Crash extends Step {
  constructor(readonly kind: "abort" | "evict") {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    m.crashes++;
    await crash(r, this.kind);
  }
  toString() {
    return `Crash(${this.kind})`;
  }
}

/** The object dies while a keyed credit is in flight; the caller retries: exactly one transfer. */
class CrashDuringCredit extends Step {
  constructor(readonly amount: number) {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    const key = `crash-${m.journal.length}-${m.auditLength}`;
    const input = {
      actor: "operator" as const,
      amount: this.amount,
      reference: "crash",
      idempotencyKey: key,
      fingerprint: fingerprintOf(this.amount, "crash"),
    };
    m.crashes++;
    const [first] = await Promise.allSettled([r.stub.credit(input), abortAllDurableObjects()]);
    r.stub = ledger(r.accountId);
    const retry = await r.stub.credit(input);
    if (!retry.ok) throw new Error(`retry failed: ${JSON.stringify(retry)}`);
    if (first.status === "fulfilled" && first.value.ok) {
      expect(retry, "a retry after an answered credit replays it").toEqual({ ...first.value, replayed: true });
    }
    m.credit(this.amount, "crash", key);
    (m.journal.at(-1) as { id: string | null }).id = retry.transfer.id;
    m.rememberCredit(key, this.amount, "crash", { ...retry, replayed: false });
    m.lastCredit = { amount: this.amount, reference: "crash", idempotencyKey: key };
    // The balance in the first answer is the one after this credit; a replay returns it unchanged.
    expect(retry.balance.posted).toBe(m.posted);
  }
  toString() {
    return `CrashDuringCredit(${this.amount})`;
  }
}

/** The object dies while a capture is in flight; the caller retries: captured exactly once. */
class CrashDuringCapture extends Step {
  constructor(
    readonly holdPick: number,
    readonly frac: number,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return m.holds.some((h) => h.state === "pending");
  }
  protected async act(m: LedgerModel, r: Real) {
    const hold = pick(
      m.holds.filter((h) => h.state === "pending"),
      this.holdPick,
    )!;
    const amount = Math.floor(hold.amount * this.frac);
    m.crashes++;
    const [first] = await Promise.allSettled([r.stub.capture({ holdId: hold.id, amount }), abortAllDurableObjects()]);
    r.stub = ledger(r.accountId);
    const retry = await r.stub.capture({ holdId: hold.id, amount });
    const expected = m.capture(hold, amount);
    if (first.status === "fulfilled") {
      expectCapture(m, expected, first.value, hold, amount);
      expect(retry, "a retried capture is refused (I4)").toEqual({ ok: false, code: "hold_not_pending", state: "captured" });
    } else if (retry.ok) {
      expectCapture(m, expected, retry, hold, amount);
    } else {
      // The first landed but its answer was lost: the journal tells its id (adopted by checkAll).
      expect(retry).toEqual({ ok: false, code: "hold_not_pending", state: "captured" });
    }
  }
  toString() {
    return `CrashDuringCapture(hold#${this.holdPick},${this.frac.toFixed(2)})`;
  }
}

/** The object dies mid-export; D1 may have committed a batch whose cursor never moved. */
class CrashDuringAlarm extends Step {
  protected async act(m: LedgerModel, r: Real) {
    m.crashes++;
    m.expireOverdue(); // nothing is overdue between steps (1 ms holds expire within their own step)
    await Promise.allSettled([runAlarm(r, "direct"), abortAllDurableObjects()]);
    r.stub = ledger(r.accountId);
  }
  toString() {
    return "CrashDuringAlarm";
  }
}

/** As if the object died after D1 committed but before the cursor moved: the rows are re-sent. */
class LoseExportCursor extends Step {
  constructor(readonly frac: number) {
    super();
  }
  protected async act(_m: LedgerModel, r: Real) {
    await runInDurableObject(r.stub, (_i: AccountLedger, state) => {
      state.storage.sql.exec(
        "UPDATE export_state SET exported_seq = CAST(exported_seq * ? AS INTEGER), audit_exported_seq = CAST(audit_exported_seq * ? AS INTEGER) WHERE id = 1",
        this.frac,
        this.frac,
      );
    });
  }
  toString() {
    return `LoseExportCursor(${this.frac.toFixed(2)})`;
  }
}

class BreakD1 extends Step {
  constructor(readonly table: "transfers" | "ledger_entries" | "audit_events") {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return m.d1Fault === null;
  }
  protected async act(m: LedgerModel) {
    await breakD1(m, this.table);
  }
  toString() {
    return `BreakD1(${this.table})`;
  }
}

class RestoreD1 extends Step {
  override check(m: Readonly<LedgerModel>) {
    return m.d1Fault !== null;
  }
  protected async act(m: LedgerModel) {
    await restoreD1(m);
  }
  toString() {
    return "RestoreD1";
  }
}

const nat = fc.nat({ max: 1_000 });
const frac = fc.double({ min: 0, max: 1, noNaN: true });
const creditAmount = fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(1, 100_000, 1_000_000));
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => Array.from({ length: weight }, () => arbitrary);

const STEPS: fc.Arbitrary<fc.AsyncCommand<LedgerModel, Real>>[] = [
  ...w(
    4,
    fc
      .tuple(creditAmount, fc.option(fc.constantFrom("c1", "c2", "c3"), { freq: 2 }), fc.option(fc.constantFrom("top-up", "invoice-7"), { freq: 2 }))
      .map(([a, k, ref]) => new Credit(a, k, ref)),
  ),
  fc.constant(new RepeatCredit()),
  fc.tuple(fc.integer({ min: 2, max: 8 }), creditAmount).map(([n, a]) => new CreditBurst(n, a)),
  ...w(
    5,
    fc
      .tuple(
        fc.constantFrom(0, 0, 0, 1, 1, 2, 3), // 0, 1 live (1 may get revoked), 2 revoked at setup, 3 never issued
        amountSpec,
        fc.constantFrom(0, 1, 1, 2), // mostly a fee that rounds (250 bps)
        fc.nat({ max: PROVIDERS.length - 1 }),
        fc.option(fc.constantFrom("i1", "i2"), { freq: 3 }),
        fc.constantFrom("a", "a", "a", "b"),
      )
      .map(([k, s, f, p, i, call]) => new Reserve(k, s, f, p, i, false, call)),
  ),
  fc.tuple(fc.integer({ min: 2, max: 10 }), amountSpec).map(([n, s]) => new ReserveBurst(n, s)),
  ...w(
    4,
    fc.tuple(holdPick, fc.constantFrom<CaptureSpec>("zero", "part", "part", "all", "all", "over"), frac).map(([h, s, f]) => new Capture(h, s, f)),
  ),
  ...w(
    2,
    fc.tuple(holdPick, fc.constantFrom("origin_failed", "client_disconnected")).map(([h, why]) => new Void(h, why)),
  ),
  fc
    .tuple(fc.constantFrom(0, 1), amountSpec, fc.constantFrom<"scheduled" | "direct">("scheduled", "direct"))
    .map(([k, s, how]) => new ReserveThenExpire(k, s, how)),
  fc
    .tuple(fc.array(nat, { minLength: 1, maxLength: 4 }), fc.constantFrom<"scheduled" | "direct">("scheduled", "direct"))
    .map(([p, how]) => new TimePasses(p, how)),
  ...w(
    3,
    nat.map((n) => new KeepResponse(n)),
  ),
  fc.constantFrom(1, 2).map((k) => new RevokeKey(k)),
  ...w(
    2,
    fc.tuple(fc.constantFrom<"scheduled" | "direct">("scheduled", "direct"), fc.boolean()).map(([how, twice]) => new Alarm(how, twice)),
  ),
  // Weighted up: they only apply once a capture (or a dispute) exists.
  ...w(
    5,
    fc.tuple(nat, fc.constantFrom<"part" | "rest" | "over">("part", "part", "rest", "over"), frac).map(([n, spec, f]) => new Refund(n, spec, f)),
  ),
  ...w(
    4,
    fc
      .tuple(nat, fc.constantFrom<"unauthorized" | "defective">("unauthorized", "defective"), fc.constantFrom(0, 300, 1_000_000))
      .map(([n, why, limit]) => new OpenDispute(n, why, limit)),
  ),
  ...w(
    4,
    fc.tuple(nat, fc.constantFrom<"payer" | "provider">("payer", "provider"), fc.boolean()).map(([n, who, race]) => new DecideDispute(n, who, race)),
  ),
  fc.constantFrom<"abort" | "evict">("abort", "evict").map((k) => new Crash(k)),
  creditAmount.map((a) => new CrashDuringCredit(a)),
  fc.tuple(nat, frac).map(([h, f]) => new CrashDuringCapture(h, f)),
  fc.constant(new CrashDuringAlarm()),
  frac.map((f) => new LoseExportCursor(f)),
  fc.constantFrom<"transfers" | "ledger_entries" | "audit_events">("transfers", "ledger_entries", "audit_events").map((t) => new BreakD1(t)),
  fc.constant(new RestoreD1()),
];

// ---------------------------------------------------------------------------------------------
// After the call: refunds and disputes of the captures so far (I5, I14)
// ---------------------------------------------------------------------------------------------

const capturesOf = (m: Readonly<LedgerModel>) => m.journal.flatMap((t, i) => (t.kind === "capture" ? [i] : []));

class Refund extends Step {
  constructor(
    readonly n: number,
    readonly spec: "part" | "rest" | "over",
    readonly frac: number,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return capturesOf(m).length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const idx = pick(capturesOf(m), this.n) as number;
    const capture = m.journal[idx]!;
    const amount = this.spec === "rest" ? null : this.spec === "part" ? Math.max(1, Math.floor(capture.amount * this.frac)) : capture.amount + 1;
    const expected = m.refund(idx, amount);
    const res = await r.stub.refund({
      actor: "operator",
      transferId: capture.id!,
      providerId: null,
      amount,
      reason: null,
      idempotencyKey: null,
      fingerprint: "",
    });
    count(`refund:${expected.kind}`);
    if (expected.kind === "ok") {
      expect(res).toMatchObject({
        ok: true,
        transfer: { kind: "refund", fee: expected.fee, refund_of: capture.id, seq: m.journal.length },
        balance: m.balance,
      });
      if (res.ok) m.journal.at(-1)!.id = res.transfer.id;
    } else expect(res, "refunds stay within the charge (I5)").toEqual({ ok: false, code: "refund_exceeds_charge", refundable: expected.refundable });
  }
  toString() {
    return `Refund(#${this.n},${this.spec}${this.spec === "part" ? `:${this.frac.toFixed(2)}` : ""})`;
  }
}

class OpenDispute extends Step {
  constructor(
    readonly n: number,
    readonly reason: "unauthorized" | "defective",
    readonly limit: number,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return capturesOf(m).length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const idx = pick(capturesOf(m), this.n) as number;
    const expected = m.openDispute(idx, this.reason, this.limit);
    const res = await r.stub.openDispute({
      actor: "owner",
      transferId: m.journal[idx]!.id!,
      reason: this.reason,
      detail: null,
      compensationLimit: this.limit,
      windowMs: 86_400_000,
    });
    count(`dispute:${expected.kind}`);
    if (expected.kind !== "ok") return void expect(res).toMatchObject({ ok: false, code: expected.kind });
    expect(res).toMatchObject({ ok: true, dispute: { amount: expected.amount, compensated: expected.compensated, status: "open" } });
    if (!res.ok) throw new Error("unreachable");
    m.addDispute({ id: res.dispute.id, captureIdx: idx, reason: this.reason, amount: expected.amount, compensated: expected.compensated });
    expect(res.balance, "compensated at once").toEqual(m.balance);
  }
  toString() {
    return `OpenDispute(#${this.n},${this.reason},limit=${this.limit})`;
  }
}

/** The operator decides a dispute, once or twice at once with opposite winners: one lands (I14). */
class DecideDispute extends Step {
  constructor(
    readonly n: number,
    readonly winner: "payer" | "provider",
    readonly race: boolean,
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return m.disputes.length > 0;
  }
  protected async act(m: LedgerModel, r: Real) {
    const d = pick(m.disputes, this.n)!;
    const winners: ("payer" | "provider")[] = this.race ? [this.winner, this.winner === "payer" ? "provider" : "payer"] : [this.winner];
    const results = await Promise.all(winners.map((winner) => r.stub.resolveDispute({ actor: "operator", disputeId: d.id, winner })));
    const landed = results.flatMap((res, i) => (res.ok ? [winners[i]!] : []));
    expect(landed.length, "at most one decision lands").toBeLessThanOrEqual(1);
    const outcome = m.decide(d, landed[0] ?? this.winner);
    count(`decide:${outcome}`);
    expect(landed.length, "an open dispute takes exactly one decision").toBe(outcome === "done" ? 1 : 0);
    for (const res of results) if (!res.ok) expect(res).toMatchObject({ code: "dispute_closed" });
  }
  toString() {
    return `DecideDispute(#${this.n},${this.winner}${this.race ? ",race" : ""})`;
  }
}

// ---------------------------------------------------------------------------------------------
// One run: a fresh account with three keys (the third revoked), an opening credit and charge, the steps,
// then recovery.
// ---------------------------------------------------------------------------------------------

async function setup(): Promise<{ model: LedgerModel; real: Real }> {
  const accountId = newId("acct");
  const model = new LedgerModel(accountId);
  const real: Real = { accountId, stub: ledger(accountId) };
  expect(await real.stub.open({ accountId, currency: "USD", actor: "operator" })).toEqual({ ok: true, account_id: accountId, currency: "USD" });
  model.pushAudit({ event: "account_opened", outcome: "ok", reason: "USD" });
  for (let k = 0; k < 3; k++) {
    const key = { id: newId("ak"), hash: `hash_${randomToken(32)}`, revoked: false };
    expect(await real.stub.createAgentKey({ id: key.id, name: `sim-${k}`, keyHash: key.hash, actor: "owner" })).toMatchObject({ ok: true });
    model.keys.push(key);
    model.pushAudit({ event: "key_created", outcome: "ok", reason: "no_mandate" });
  }
  await real.stub.revokeAgentKey({ id: model.keys[2]!.id, actor: "owner" });
  model.revoke(2);
  // An opening balance, so that holds are common from the first step ("all"/"over" still reach 0).
  model.credit(20_000, "opening", null);
  const opened = await real.stub.credit({
    actor: "operator",
    amount: 20_000,
    reference: "opening",
    idempotencyKey: null,
    fingerprint: fingerprintOf(20_000, "opening"),
  });
  if (!opened.ok) throw new Error("opening credit failed");
  model.journal[0]!.id = opened.transfer.id;
  // And an opening charge, so that refunds and disputes have something to act on from the first step.
  const requestId = newId("req");
  const charge = { keyHash: model.keys[0]!.hash, requestId, serviceId: "svc_sim", providerId: PROVIDERS[0], feeBps: 250, amount: 1_000 };
  const held = await real.stub.reserve({ ...charge, currency: "USD", ttlMs: 60_000 });
  if (!held.ok || model.reserve(0, 1_000, requestId, null).kind !== "ok") throw new Error("opening reserve failed");
  const hold = model.addHold({ id: held.hold_id, requestId, keyIdx: 0, amount: 1_000, feeBps: 250, providerId: PROVIDERS[0], tiny: false }, null);
  expectCapture(model, model.capture(hold, 1_000), await real.stub.capture({ holdId: hold.id, amount: 1_000 }), hold, 1_000);
  return { model, real };
}

/**
 * After the last step: every pending hold is settled (captured in part, or voided), D1 comes back,
 * a crash, two alarms; everything lands exactly once.
 */
async function recover(m: LedgerModel, r: Real): Promise<void> {
  for (const [i, hold] of m.holds.filter((h) => h.state === "pending").entries()) {
    if (i % 3 === 2) {
      m.void(hold, "settled_at_end");
      expect(await r.stub.release({ holdId: hold.id, reason: "settled_at_end" })).toMatchObject({ ok: true, hold: { state: "voided" } });
    } else {
      const amount = Math.ceil(hold.amount / (i + 1));
      const expected = m.capture(hold, amount);
      expectCapture(m, expected, await r.stub.capture({ holdId: hold.id, amount }), hold, amount);
    }
  }
  await restoreD1(m);
  await crash(r, "evict");
  await checkAll(m, r, (await alarmStep(m, r, "scheduled", true)) ?? {});
}

describe("AccountLedger simulation against a reference model", () => {
  beforeAll(() => {
    // The export's own log line while D1 is made to fail; everything else still prints.
    const original = console.error.bind(console);
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].startsWith("export to D1 failed")) return;
      original(...args);
    });
    console.log(`[sim] seed=${SEED} runs=${RUNS} steps≤${MAX_STEPS}${PATH ? ` path=${PATH}` : ""}${REPLAY_PATH ? ` replayPath=${REPLAY_PATH}` : ""}`);
  });
  afterAll(() => {
    vi.restoreAllMocks();
    console.log(`[sim] ${runs} runs, ${steps} steps, ${crashes} crashes, ${alarms} alarm steps`);
    console.log(
      `[sim] outcomes: ${[...tally]
        .sort()
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );
  });

  it("keeps I1–I14 after every step under crashes, duplicate deliveries and D1 failures", { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(STEPS, { maxCommands: MAX_STEPS, size: "max", replayPath: REPLAY_PATH }), async (cmds) => {
        const world = await setup();
        try {
          await checkAll(world.model, world.real, {});
          stepsThisRun = 0;
          await fc.asyncModelRun(() => world, cmds);
          await recover(world.model, world.real);
          runs++;
          steps += stepsThisRun;
          crashes += world.model.crashes;
          alarms += world.model.alarms;
        } finally {
          await restoreD1(world.model);
        }
      }),
      { seed: SEED, numRuns: RUNS, path: PATH, endOnFailure: PATH !== undefined },
    );
  });
});
