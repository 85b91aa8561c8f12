import { type AuditRecord, CHAIN_START, type ChainPosition, verifyChain } from "../../core/audit-chain";

export { toAuditRecord } from "../../core/audit-chain";

/**
 * Verifying D1's copy of an account's audit trail: the chain must recompute (no edited, removed
 * or reordered event), and it must be the ledger's chain, exported up to the ledger's cursor.
 * Pure. (The Node `audit:verify` script, which sees only D1, runs verifyChain from chain.ts itself.)
 */
export type LedgerAuditHead = { seq: number; hash: string | null; exported_seq: number };

export type AuditProblem = "missing" | "broken_link" | "hash_mismatch" | "head_mismatch" | "unknown_in_d1";

export type AuditVerification =
  | { ok: true; checked: number; d1_head_seq: number; d1_head_hash: string | null; exported_seq?: number; ledger_head_seq?: number; not_yet_exported?: number }
  | { ok: false; checked: number; seq: number; problem: AuditProblem; detail: string; exported_seq?: number; ledger_head_seq?: number };

/** D1's rows alone: the chain recomputes from GENESIS with no gap (what the Node script can check). */
export function verifyD1Chain(records: readonly AuditRecord[]): AuditVerification {
  return d1Result(verifyChain(records));
}

/**
 * The same check over a trail read a page at a time, so memory stays one page however long the
 * trail: each page continues the chain from the last event of the page before. `readPage`
 * returns up to `pageSize` events after `afterSeq`, in seq order; a short page is the last.
 */
export async function verifyD1ChainPaged(
  readPage: (afterSeq: number, pageSize: number) => Promise<AuditRecord[]>,
  pageSize: number,
): Promise<AuditVerification> {
  let at: ChainPosition = CHAIN_START;
  for (;;) {
    const records = await readPage(at.seq, pageSize);
    const chain = verifyChain(records, at);
    if (!chain.ok || records.length < pageSize) return d1Result(chain);
    at = { seq: chain.head_seq, hash: chain.head_hash };
  }
}

function d1Result(chain: ReturnType<typeof verifyChain>): AuditVerification {
  if (!chain.ok) return chain;
  return { ok: true, checked: chain.checked, d1_head_seq: chain.head_seq, d1_head_hash: chain.checked === 0 ? null : chain.head_hash };
}

/**
 * D1's rows against the ledger. `head` is the ledger's auditHead() read before D1; `anchor` is
 * the ledger's own event at D1's last seq, read after D1 (null if the ledger has no such event).
 * D1 must hold exactly events 1..n with n ≥ the export cursor, and its event n must be the
 * ledger's event n (so a chain rewritten with fresh hashes is caught too).
 */
export function verifyAgainstLedger(records: readonly AuditRecord[], head: LedgerAuditHead, anchor: { seq: number; hash: string } | null): AuditVerification {
  return compareWithLedger(verifyD1Chain(records), head, anchor);
}

/** verifyAgainstLedger on D1's chain already checked (verifyD1Chain or verifyD1ChainPaged). */
export function compareWithLedger(d1: AuditVerification, head: LedgerAuditHead, anchor: { seq: number; hash: string } | null): AuditVerification {
  const ledger = { exported_seq: head.exported_seq, ledger_head_seq: head.seq };
  if (!d1.ok) return { ...d1, ...ledger };
  const n = d1.d1_head_seq;
  if (n < head.exported_seq) {
    return {
      ok: false,
      checked: n,
      seq: n + 1,
      problem: "missing",
      detail: `event ${n + 1} is missing: D1 ends at ${n}, the ledger exported up to ${head.exported_seq}`,
      ...ledger,
    };
  }
  if (n > 0 && (anchor === null || anchor.seq !== n)) {
    const first = Math.min(n, head.seq + 1);
    return { ok: false, checked: first - 1, seq: first, problem: "unknown_in_d1", detail: `D1 holds event ${first}, which the ledger lacks`, ...ledger };
  }
  if (n > 0 && anchor?.hash !== d1.d1_head_hash) {
    return {
      ok: false,
      checked: 0,
      seq: n,
      problem: "head_mismatch",
      detail: `D1's chain up to event ${n} is not the ledger's (its history was rewritten)`,
      ...ledger,
    };
  }
  return { ...d1, ...ledger, not_yet_exported: Math.max(0, head.seq - n) };
}
