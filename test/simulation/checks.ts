/**
 * The invariants, checked after every step (and after setup and recovery): the real object and D1
 * against the model.
 *
 * The balance (posted, pending, available) and the raw balance row equal the model's and never
 * overdraw (I2); every hold has the model's state and resolved at most once, with one
 * accepted-hold event and at most one final event on the trail (I4, I13); the journal is gapless
 * 1..N (I8) and equals the model's, each hold captured into at most one transfer; the audit chain
 * verifies and holds exactly the model's events (I5); D1 holds a prefix of the journal at least as
 * long as the export cursor, each transfer with legs that sum to zero (I1, I6, I7), and a prefix of
 * the audit chain that verifies on its own. After an alarm with D1 healthy: D1 holds exactly the
 * journal and the trail, nothing doubled, the account's legs sum to its posted balance. (After an
 * alarm with D1 failing, faults.ts checks that the cursors did not move and a retry alarm is set.)
 */
import { expect } from "vitest";
import type { AuditEvent, Transfer } from "../../durable-objects/types";
import { toAuditRecord, verifyChain } from "../../core/audit-chain";
import { legsOf } from "../../core/legs";
import { testEnv } from "../durable-objects/helpers";
import type { Real } from "./knobs";
import type { LedgerModel } from "./model";
import type { AuditExpect } from "./model-types";
import { asRecord, d1State, fullAudit, fullJournal, rawState } from "./real-ledger";

const pickAudit = (e: AuditEvent): AuditExpect => ({ event: e.event, outcome: e.outcome, amount: e.amount, request_id: e.request_id, reason: e.reason });
const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

export async function checkAll(m: LedgerModel, r: Real, o: { exportedAll?: boolean }): Promise<void> {
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
