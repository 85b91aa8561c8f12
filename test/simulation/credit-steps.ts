/**
 * Credits: with idempotency keys, repeated (duplicate delivery), the same key with another body,
 * and bursts of the same key at once (I3).
 */
import { expect } from "vitest";
import type { CreditResult } from "../../durable-objects/types";
import { count, type Real } from "./knobs";
import { fingerprintOf, type LedgerModel } from "./model";
import { Step } from "./step";

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

export class Credit extends Step {
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
export class RepeatCredit extends Step {
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
export class CreditBurst extends Step {
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
