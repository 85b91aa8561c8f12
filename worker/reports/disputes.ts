import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { Dispute } from "../../durable-objects/dispute-types";
import type { Db } from "../db/client";
import { disputes } from "../db/schema";
import { type AtPosition, newestFirstPage } from "./queries";

/**
 * Disputes as D1 holds them: each payer's ledger exports its disputes there (at once, as it
 * answers a dispute's step, and again by its alarm), so a provider and the operator can find
 * the disputes of many accounts. What a dispute may do next is decided by the ledger, never here.
 */

/** Whose dispute it is: the account that holds it (where its steps are sent) and the provider it concerns. */
export async function disputeOwners(db: Db, id: string) {
  return db.select({ accountId: disputes.accountId, providerId: disputes.providerId }).from(disputes).where(eq(disputes.id, id)).get();
}

/** Which disputes a listing shows: one account's, one provider's, or (operator) all. */
export type DisputeScope = { accountId: string } | { providerId: string } | "all";

/** Disputes newest first (`created_at`, then id), continuing below `after`. */
export async function listDisputes(db: Db, scope: DisputeScope, limit: number, after: AtPosition | null) {
  const position = after ? or(lt(disputes.createdAt, after.at), and(eq(disputes.createdAt, after.at), lt(disputes.id, after.id))) : undefined;
  const rows = await db
    .select()
    .from(disputes)
    .where(and(scopeOf(scope), position))
    .orderBy(desc(disputes.createdAt), desc(disputes.id))
    .limit(limit + 1);
  return newestFirstPage(rows, limit, toView, (r) => ({ at: r.createdAt, id: r.id }));
}

function scopeOf(scope: DisputeScope): SQL | undefined {
  if (scope === "all") return undefined;
  return "accountId" in scope ? eq(disputes.accountId, scope.accountId) : eq(disputes.providerId, scope.providerId);
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toView(r: typeof disputes.$inferSelect): Dispute {
  return {
    id: r.id,
    account_id: r.accountId,
    transfer_id: r.transferId,
    provider_id: r.providerId,
    service_id: r.serviceId,
    reason: r.reason as Dispute["reason"],
    detail: r.detail,
    amount: r.amount,
    compensated: r.compensated,
    currency: r.currency,
    status: r.status,
    evidence: r.evidence,
    contested_at: isoOrNull(r.contestedAt),
    created_at: new Date(r.createdAt).toISOString(),
    resolved_at: isoOrNull(r.resolvedAt),
  };
}
