import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * The tamper-evident audit trail: each account's events form a hash chain. An event's hash is
 * SHA-256 over the previous event's hash and the event's canonical encoding, starting from
 * GENESIS; altering, removing or reordering any event breaks every link after it.
 *
 * Pure and synchronous: it runs inside the Durable Object's transactions (no await there), and in
 * Node for the `audit:verify` script, so it hashes with @noble/hashes (audited, synchronous,
 * plain JavaScript) rather than the async WebCrypto. node:crypto's synchronous hash was tried:
 * fast in a loop, but a hash or two per ledger request paid its native call's setup each time and
 * cost about three times as much (bench/README.md, "audit hash").
 */
export const GENESIS = "0".repeat(64);

export type AuditFields = {
  account_id: string;
  seq: number;
  at: number;
  actor: string;
  event: string;
  agent_key_id: string | null;
  mandate_id: string | null;
  intent_hash: string | null;
  service_id: string | null;
  request_id: string | null;
  amount: number | null;
  outcome: string;
  reason: string | null;
};

export type AuditRecord = AuditFields & { prev_hash: string; hash: string };

/** The columns of D1's `audit_events`, as D1 (or `wrangler d1 execute --json`) returns them. */
export function toAuditRecord(r: Record<string, unknown>): AuditRecord {
  const text = (v: unknown) => (v == null ? null : String(v));
  return {
    account_id: String(r.account_id),
    seq: Number(r.seq),
    at: Number(r.at),
    actor: String(r.actor),
    event: String(r.event),
    agent_key_id: text(r.agent_key_id),
    mandate_id: text(r.mandate_id),
    intent_hash: text(r.intent_hash),
    service_id: text(r.service_id),
    request_id: text(r.request_id),
    amount: r.amount == null ? null : Number(r.amount),
    outcome: String(r.outcome),
    reason: text(r.reason),
    prev_hash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

const FIELDS: readonly (keyof AuditFields)[] = [
  "account_id",
  "actor",
  "agent_key_id",
  "amount",
  "at",
  "event",
  "intent_hash",
  "mandate_id",
  "outcome",
  "reason",
  "request_id",
  "seq",
  "service_id",
];

/** Canonical encoding: a JSON array of the fields in a fixed (sorted) order; nothing else counts. */
export function canonical(e: AuditFields): string {
  return JSON.stringify(FIELDS.map((k) => e[k] ?? null));
}

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

export function chainHash(prevHash: string, e: AuditFields): string {
  return sha256Hex(`${prevHash}\n${canonical(e)}`);
}

export type ChainCheck =
  | { ok: true; checked: number; head_seq: number; head_hash: string }
  | { ok: false; checked: number; seq: number; problem: "missing" | "broken_link" | "hash_mismatch"; detail: string };

/** Where a chain check stands: the last event verified (seq 0 and GENESIS before the first). */
export type ChainPosition = { seq: number; hash: string };

export const CHAIN_START: ChainPosition = { seq: 0, hash: GENESIS };

/**
 * Recomputes a chain from its records in `seq` order (1, 2, 3 …). Reports the first event that
 * is missing (a gap in seq), links to the wrong predecessor, or whose content does not hash to
 * its stored hash (an edited row). `from` continues a check page by page: the records are the
 * events after `from.seq`, and `checked` counts from event 1.
 */
export function verifyChain(records: readonly AuditRecord[], from: ChainPosition = CHAIN_START): ChainCheck {
  let prev = from.hash;
  let expected = from.seq + 1;
  for (const r of records) {
    if (r.seq !== expected) {
      return { ok: false, checked: expected - 1, seq: expected, problem: "missing", detail: `event ${expected} is missing (next is ${r.seq})` };
    }
    if (r.prev_hash !== prev) {
      return { ok: false, checked: expected - 1, seq: r.seq, problem: "broken_link", detail: `event ${r.seq} does not link to event ${r.seq - 1}` };
    }
    const hash = chainHash(prev, r);
    if (hash !== r.hash) {
      return { ok: false, checked: expected - 1, seq: r.seq, problem: "hash_mismatch", detail: `event ${r.seq} was altered` };
    }
    prev = hash;
    expected++;
  }
  return { ok: true, checked: expected - 1, head_seq: expected - 1, head_hash: prev };
}
