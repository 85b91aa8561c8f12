import { describe, expect, it } from "vitest";
import { type AuditFields, type AuditRecord, chainHash, GENESIS } from "../../core/audit-chain";
import { toAuditRecord, verifyAgainstLedger, verifyD1Chain } from "../../worker/audit/verify";

/** A valid chain of n events for one account. */
function chain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const f: AuditFields = {
      account_id: "acct_x",
      seq,
      at: 1_800_000_000_000 + seq,
      actor: "operator",
      event: "credit",
      agent_key_id: null,
      mandate_id: null,
      intent_hash: null,
      service_id: null,
      request_id: null,
      amount: seq * 10,
      outcome: "ok",
      reason: null,
    };
    const hash = chainHash(prev, f);
    out.push({ ...f, prev_hash: prev, hash });
    prev = hash;
  }
  return out;
}

const headOf = (records: AuditRecord[], exported = records.length) => ({
  seq: records.length,
  hash: records[records.length - 1]?.hash ?? null,
  exported_seq: exported,
});
const anchorOf = (records: AuditRecord[], seq: number) => {
  const r = records[seq - 1];
  return r ? { seq: r.seq, hash: r.hash } : null;
};

describe("verifyAgainstLedger", () => {
  it("a complete, untouched copy is ok", () => {
    const c = chain(5);
    expect(verifyAgainstLedger(c, headOf(c), anchorOf(c, 5))).toEqual({
      ok: true,
      checked: 5,
      d1_head_seq: 5,
      d1_head_hash: c[4]?.hash,
      exported_seq: 5,
      ledger_head_seq: 5,
      not_yet_exported: 0,
    });
  });

  it("an empty trail with nothing exported is ok", () => {
    expect(verifyAgainstLedger([], { seq: 0, hash: null, exported_seq: 0 }, null)).toMatchObject({ ok: true, checked: 0, d1_head_seq: 0 });
  });

  it("events the ledger has not exported yet are pending, not a failure", () => {
    const c = chain(5);
    expect(verifyAgainstLedger(c.slice(0, 3), headOf(c, 3), anchorOf(c, 3))).toMatchObject({ ok: true, d1_head_seq: 3, not_yet_exported: 2 });
  });

  it("an edited event fails at that event", () => {
    const c = chain(5);
    (c[2] as AuditRecord).amount = 31;
    expect(verifyAgainstLedger(c, headOf(c), anchorOf(c, 5))).toMatchObject({ ok: false, seq: 3, problem: "hash_mismatch", checked: 2 });
  });

  it("a removed event is missing at its seq", () => {
    const c = chain(5);
    const d1 = c.filter((r) => r.seq !== 2);
    expect(verifyAgainstLedger(d1, headOf(c), anchorOf(c, 5))).toMatchObject({ ok: false, seq: 2, problem: "missing" });
  });

  it("a tail cut below the export cursor is missing at the first absent seq", () => {
    const c = chain(5);
    expect(verifyAgainstLedger(c.slice(0, 3), headOf(c, 5), anchorOf(c, 3))).toMatchObject({ ok: false, seq: 4, problem: "missing" });
  });

  it("a chain rewritten with fresh hashes verifies alone but not against the ledger", () => {
    const c = chain(4);
    const forged = chain(4).map((r) => ({ ...r, actor: "owner" }));
    let prev = GENESIS;
    for (const r of forged) {
      r.prev_hash = prev;
      r.hash = chainHash(prev, r);
      prev = r.hash;
    }
    expect(verifyD1Chain(forged)).toMatchObject({ ok: true });
    expect(verifyAgainstLedger(forged, headOf(c), anchorOf(c, 4))).toMatchObject({ ok: false, seq: 4, problem: "head_mismatch" });
  });

  it("events in D1 that the ledger lacks: unknown_in_d1 at the first one", () => {
    const c = chain(5);
    expect(verifyAgainstLedger(c, { seq: 3, hash: c[2]?.hash ?? null, exported_seq: 3 }, null)).toMatchObject({ ok: false, seq: 4, problem: "unknown_in_d1" });
  });
});

describe("toAuditRecord", () => {
  it("maps D1 / wrangler JSON rows, keeping nulls null", () => {
    const [r] = chain(1);
    const row = { ...r, amount: 10, agent_key_id: null, extra: "ignored" } as Record<string, unknown>;
    expect(toAuditRecord(row)).toEqual(r);
    expect(verifyD1Chain([toAuditRecord(row)])).toMatchObject({ ok: true, checked: 1 });
  });
});
