import { describe, expect, it } from "vitest";
import { type AuditFields, type AuditRecord, canonical, chainHash, GENESIS, sha256Hex, verifyChain } from "../../core/audit-chain";

// I5/I13: the audit trail is a per-account hash chain. These pin the encoding and show that an
// edited, removed or re-linked event is found, at the right seq and with the right problem.

const T0 = Date.UTC(2026, 5, 15, 12, 0, 0);

function fields(seq: number, over: Partial<AuditFields> = {}): AuditFields {
  return {
    account_id: "acct_chain",
    seq,
    at: T0 + seq,
    actor: seq === 1 ? "operator" : `agent:ak_${seq}`,
    event: seq === 1 ? "credit" : "hold",
    agent_key_id: seq === 1 ? null : "ak_1",
    mandate_id: seq === 1 ? null : "mnd_1",
    intent_hash: seq === 1 ? null : sha256Hex("buy me a train ticket"),
    service_id: seq === 1 ? null : "svc_1",
    request_id: seq === 1 ? null : `req_${seq}`,
    amount: 100 * seq,
    outcome: seq === 1 ? "ok" : "accepted",
    reason: null,
    ...over,
  };
}

/** A valid chain of `n` events, built the way appendAudit builds it. */
function buildChain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const f = fields(seq);
    const hash = chainHash(prev, f);
    out.push({ ...f, prev_hash: prev, hash });
    prev = hash;
  }
  return out;
}

describe("GENESIS and the hash", () => {
  it("GENESIS is 64 zero hex digits and starts every chain", () => {
    expect(GENESIS).toBe("0".repeat(64));
    const [first] = buildChain(1);
    expect(first?.prev_hash).toBe(GENESIS);
    expect(first?.hash).toBe(sha256Hex(`${GENESIS}\n${canonical(fields(1))}`));
  });

  it("sha256Hex is SHA-256 in lower-case hex (known vectors)", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("canonical encoding", () => {
  it("is a JSON array of the fields in sorted-name order", () => {
    const f = fields(2);
    expect(JSON.parse(canonical(f))).toEqual([
      f.account_id,
      f.actor,
      f.agent_key_id,
      f.amount,
      f.at,
      f.event,
      f.intent_hash,
      f.mandate_id,
      f.outcome,
      f.reason,
      f.request_id,
      f.seq,
      f.service_id,
    ]);
  });

  it("does not depend on the order of the object's keys", () => {
    const f = fields(2);
    const reversed = Object.fromEntries(Object.entries(f).reverse()) as AuditFields;
    expect(Object.keys(reversed)).not.toEqual(Object.keys(f));
    expect(canonical(reversed)).toBe(canonical(f));
    expect(chainHash(GENESIS, reversed)).toBe(chainHash(GENESIS, f));
  });

  it("ignores members that are not audit fields (the stored hashes themselves, extras)", () => {
    const f = fields(2);
    const withExtras = { ...f, prev_hash: "x", hash: "y", note: "ignored" } as AuditFields;
    expect(canonical(withExtras)).toBe(canonical(f));
  });

  it("encodes absent optional fields as null, so undefined and null hash alike", () => {
    const f = fields(1);
    const withUndefined = { ...f, reason: undefined } as unknown as AuditFields;
    expect(canonical(withUndefined)).toBe(canonical(f));
  });

  it("changes with every field", () => {
    const f = fields(2);
    const variants: Partial<AuditFields>[] = [
      { account_id: "acct_other" },
      { seq: 3 },
      { at: f.at + 1 },
      { actor: "owner" },
      { event: "capture" },
      { agent_key_id: "ak_2" },
      { mandate_id: "mnd_2" },
      { intent_hash: sha256Hex("other") },
      { service_id: "svc_2" },
      { request_id: "req_x" },
      { amount: (f.amount ?? 0) + 1 },
      { outcome: "refused" },
      { reason: "mandate_exceeded" },
    ];
    const seen = new Set([canonical(f)]);
    for (const v of variants) seen.add(canonical({ ...f, ...v }));
    expect(seen.size).toBe(variants.length + 1);
  });

  it("a null amount and a zero amount differ", () => {
    expect(canonical(fields(2, { amount: null }))).not.toBe(canonical(fields(2, { amount: 0 })));
  });
});

describe("verifyChain", () => {
  it("accepts a built chain and reports its head", () => {
    const chain = buildChain(5);
    expect(verifyChain(chain)).toEqual({ ok: true, checked: 5, head_seq: 5, head_hash: chain[4]?.hash });
  });

  it("continues from a position: two halves check as the whole; a wrong position breaks the first link", () => {
    const chain = buildChain(6);
    const first = verifyChain(chain.slice(0, 4));
    if (!first.ok) throw new Error("the first half should verify");
    expect(verifyChain(chain.slice(4), { seq: first.head_seq, hash: first.head_hash })).toEqual(verifyChain(chain));
    expect(verifyChain(chain.slice(4), { seq: 4, hash: GENESIS })).toMatchObject({ ok: false, checked: 4, seq: 5, problem: "broken_link" });
    expect(verifyChain(chain.slice(4), { seq: 3, hash: first.head_hash })).toMatchObject({ ok: false, checked: 3, seq: 4, problem: "missing" });
  });

  it("accepts the empty chain (head is GENESIS at seq 0)", () => {
    expect(verifyChain([])).toEqual({ ok: true, checked: 0, head_seq: 0, head_hash: GENESIS });
  });

  it("an edited event → hash_mismatch at that event", () => {
    const chain = buildChain(5);
    chain[2] = { ...chain[2]!, amount: 1 };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 2, seq: 3, problem: "hash_mismatch" });
  });

  it("an edited event whose hash is recomputed → broken_link at the next event", () => {
    const chain = buildChain(5);
    const edited = { ...chain[2]!, reason: "forged" };
    chain[2] = { ...edited, hash: chainHash(edited.prev_hash, edited) };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 3, seq: 4, problem: "broken_link" });
  });

  it("an edited last event is found too", () => {
    const chain = buildChain(4);
    chain[3] = { ...chain[3]!, outcome: "refused" };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 3, seq: 4, problem: "hash_mismatch" });
  });

  it("a removed event → missing at its seq", () => {
    const chain = buildChain(5);
    chain.splice(1, 1); // remove seq 2
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 1, seq: 2, problem: "missing" });
  });

  it("a removed first event → missing at seq 1", () => {
    const chain = buildChain(3).slice(1);
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 0, seq: 1, problem: "missing" });
  });

  it("a removed event with the rest renumbered and renumbered to hide the gap → broken_link", () => {
    const chain = buildChain(5);
    chain.splice(1, 1);
    // Renumber 3,4,5 to 2,3,4 (the gap is hidden) but keep their hashes: the link breaks.
    const renumbered = chain.map((r, i) => ({ ...r, seq: i + 1 }));
    expect(verifyChain(renumbered)).toMatchObject({ ok: false, checked: 1, seq: 2, problem: "broken_link" });
  });

  it("a re-linked event (prev_hash pointing elsewhere) → broken_link", () => {
    const chain = buildChain(5);
    chain[3] = { ...chain[3]!, prev_hash: chain[1]!.hash };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 3, seq: 4, problem: "broken_link" });
  });

  it("a first event that does not start from GENESIS → broken_link at seq 1", () => {
    const chain = buildChain(2);
    const f = fields(1);
    const other = "f".repeat(64);
    chain[0] = { ...f, prev_hash: other, hash: chainHash(other, f) };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 0, seq: 1, problem: "broken_link" });
  });

  it("two events swapped → missing (order is by seq)", () => {
    const chain = buildChain(4);
    [chain[1], chain[2]] = [chain[2]!, chain[1]!];
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 1, seq: 2, problem: "missing" });
  });

  it("a whole chain rebuilt from scratch with one event changed verifies on its own, but its head differs", () => {
    // What the chain protects against is silent change: an attacker who rewrites everything
    // gets a different head, which is why the head is exported to D1 and kept elsewhere.
    const honest = buildChain(3);
    let prev = GENESIS;
    const forged = honest.map((r) => {
      const f: AuditFields = { ...r, amount: r.seq === 2 ? 1 : r.amount };
      const hash = chainHash(prev, f);
      const out = { ...f, prev_hash: prev, hash };
      prev = hash;
      return out;
    });
    const a = verifyChain(honest);
    const b = verifyChain(forged);
    expect(a.ok && b.ok).toBe(true);
    expect(a.ok && b.ok && a.head_hash !== b.head_hash).toBe(true);
  });
});
