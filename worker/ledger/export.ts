import { drizzle } from "drizzle-orm/d1";
import type { BatchItem } from "drizzle-orm/batch";
import type { Transfer } from "../../durable-objects/types";
import { ledgerEntries, transfers } from "../db/schema";
import { legsOf } from "./legs";

/**
 * Writes journal transfers and their legs to D1 in one atomic batch (one D1 call). Idempotent:
 * rows already present for `(account, seq)` are left as they are, so exporting twice lands once.
 */
export async function exportTransfers(d1: D1Database, accountId: string, batch: readonly Transfer[]): Promise<void> {
  if (batch.length === 0) return;
  const db = drizzle(d1);
  const statements: BatchItem<"sqlite">[] = [];
  for (const t of batch) {
    const createdAt = Date.parse(t.created_at);
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
            createdAt,
          })),
        )
        .onConflictDoNothing(),
    );
  }
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}
