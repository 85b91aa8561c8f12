import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import type { AuditEvent, Transfer } from "../../durable-objects/types";
import { auditEvents, ledgerEntries, transfers } from "../db/schema";
import { legsOf } from "./legs";

/**
 * Writes journal transfers (with their double-entry legs) and audit events to D1 in one atomic
 * batch (one D1 call). Idempotent: rows already present for `(account, seq)` are left as they
 * are, so exporting twice lands once (I7).
 */
export async function exportBatch(d1: D1Database, accountId: string, batch: readonly Transfer[], audit: readonly AuditEvent[] = []): Promise<void> {
  const db = drizzle(d1);
  const statements: BatchItem<"sqlite">[] = [];
  for (const t of batch) {
    const createdAt = Date.parse(t.created_at);
    const tags = t.tags ? JSON.stringify(t.tags) : null;
    statements.push(
      db
        .insert(transfers)
        .values({
          accountId,
          seq: t.seq,
          id: t.id,
          kind: t.kind,
          amount: t.amount,
          currency: t.currency,
          requestId: t.request_id,
          holdId: t.hold_id,
          serviceId: t.service_id,
          providerId: t.provider_id,
          agentKeyId: t.agent_key_id,
          reference: t.reference,
          usage: t.usage ? JSON.stringify(t.usage) : null,
          shortfall: t.shortfall,
          reason: t.reason,
          fee: t.fee,
          mandateId: t.mandate_id,
          tags,
          createdAt,
        })
        .onConflictDoNothing(),
      db
        .insert(ledgerEntries)
        .values(
          legsOf(accountId, t).map((leg, i) => ({
            accountId,
            seq: t.seq,
            leg: i,
            transferId: t.id,
            ledgerAccount: leg.ledgerAccount,
            amount: leg.amount,
            currency: t.currency,
            tags,
            createdAt,
          })),
        )
        .onConflictDoNothing(),
    );
  }
  // D1 allows 100 bound parameters per statement: 6 audit rows of 15 columns fit in one.
  for (let i = 0; i < audit.length; i += 6) {
    const rows = audit.slice(i, i + 6).map((e) => ({
      accountId,
      seq: e.seq,
      at: Date.parse(e.at),
      actor: e.actor,
      event: e.event,
      agentKeyId: e.agent_key_id,
      mandateId: e.mandate_id,
      intentHash: e.intent_hash,
      serviceId: e.service_id,
      requestId: e.request_id,
      amount: e.amount,
      outcome: e.outcome,
      reason: e.reason,
      prevHash: e.prev_hash,
      hash: e.hash,
    }));
    statements.push(db.insert(auditEvents).values(rows).onConflictDoNothing());
  }
  if (statements.length === 0) return;
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}
