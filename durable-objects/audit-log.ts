import { type AuditFields, type AuditRecord, chainHash, GENESIS } from "../core/audit-chain";
import type { Sql } from "./sql";

/** What a caller says of an event; the chain adds account, seq, time and hashes. */
export type AuditEntry = Pick<AuditFields, "actor" | "event" | "outcome"> &
  Partial<Omit<AuditFields, "account_id" | "seq" | "at" | "actor" | "event" | "outcome">>;

/**
 * Appends one event to the account's hash chain. Called inside the transaction that does what
 * the event records, so the event and the money move commit together or not at all.
 */
export type AuditHead = { seq: number; hash: string };

/** The chain's last event, read from storage (the ledger caches it between calls). */
export function readAuditHead(sql: Sql): AuditHead {
  const head = sql.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  return head ? { seq: Number(head.seq), hash: String(head.hash) } : { seq: 0, hash: GENESIS };
}

/** Appends after `head` and returns the new head. */
export function appendAudit(sql: Sql, accountId: string, head: AuditHead, entry: AuditEntry, now: number): AuditHead {
  const fields: AuditFields = {
    account_id: accountId,
    seq: head.seq + 1,
    at: now,
    actor: entry.actor,
    event: entry.event,
    agent_key_id: entry.agent_key_id ?? null,
    mandate_id: entry.mandate_id ?? null,
    intent_hash: entry.intent_hash ?? null,
    service_id: entry.service_id ?? null,
    request_id: entry.request_id ?? null,
    amount: entry.amount ?? null,
    outcome: entry.outcome,
    reason: entry.reason ?? null,
  };
  const prev = head.hash;
  const record: AuditRecord = { ...fields, prev_hash: prev, hash: chainHash(prev, fields) };
  sql.exec(
    `INSERT INTO audit (seq, at, actor, event, agent_key_id, mandate_id, intent_hash, service_id, request_id, amount, outcome, reason, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    record.seq,
    record.at,
    record.actor,
    record.event,
    record.agent_key_id,
    record.mandate_id,
    record.intent_hash,
    record.service_id,
    record.request_id,
    record.amount,
    record.outcome,
    record.reason,
    record.prev_hash,
    record.hash,
  );
  return { seq: record.seq, hash: record.hash };
}
