import type { AuditEvent, Transfer } from "../../durable-objects/types";
import { legsOf } from "./legs";

// Hand-written SQL for the export on purpose: it runs inside the account's Durable Object for every
// settled transfer, and building these statements through the query builder cost more CPU than
// the rest of a capture. The columns are those of worker/db/schema.ts (drizzle), which owns them.
const INSERT_TRANSFER = `INSERT INTO transfers (account_id, seq, id, kind, amount, currency, request_id, hold_id, service_id, provider_id,
  agent_key_id, reference, usage, shortfall, reason, fee, mandate_id, tags, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
const INSERT_LEG = `INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, tags, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
const INSERT_AUDIT = `INSERT INTO audit_events (account_id, seq, at, actor, event, agent_key_id, mandate_id, intent_hash, service_id, request_id,
  amount, outcome, reason, prev_hash, hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

/**
 * Writes journal transfers (with their double-entry legs) and audit events to D1 in one atomic
 * batch (one D1 call). Idempotent: rows already present for `(account, seq)` are left as they
 * are, so exporting twice lands once (I7).
 */
export async function exportBatch(d1: D1Database, accountId: string, batch: readonly Transfer[], audit: readonly AuditEvent[] = []): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  const transfer = d1.prepare(INSERT_TRANSFER);
  const leg = d1.prepare(INSERT_LEG);
  const event = d1.prepare(INSERT_AUDIT);
  for (const t of batch) {
    const createdAt = Date.parse(t.created_at);
    const tags = t.tags ? JSON.stringify(t.tags) : null;
    statements.push(
      transfer.bind(
        accountId,
        t.seq,
        t.id,
        t.kind,
        t.amount,
        t.currency,
        t.request_id,
        t.hold_id,
        t.service_id,
        t.provider_id,
        t.agent_key_id,
        t.reference,
        t.usage ? JSON.stringify(t.usage) : null,
        t.shortfall,
        t.reason,
        t.fee,
        t.mandate_id,
        tags,
        createdAt,
      ),
    );
    legsOf(accountId, t).forEach((l, i) => {
      statements.push(leg.bind(accountId, t.seq, i, t.id, l.ledgerAccount, l.amount, t.currency, tags, createdAt));
    });
  }
  for (const e of audit) {
    statements.push(
      event.bind(
        accountId,
        e.seq,
        Date.parse(e.at),
        e.actor,
        e.event,
        e.agent_key_id,
        e.mandate_id,
        e.intent_hash,
        e.service_id,
        e.request_id,
        e.amount,
        e.outcome,
        e.reason,
        e.prev_hash,
        e.hash,
      ),
    );
  }
  if (statements.length > 0) await d1.batch(statements);
}
