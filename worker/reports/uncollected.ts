import { and, desc, eq, lt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { accounts, auditEvents } from "../db/schema";
import { type AtPosition, newestFirstPage } from "./queries";

/**
 * Calls a service served but was not paid for: their capture reached the payer's ledger after the
 * hold had expired (the Worker could not settle in time), so nothing was charged. The ledger
 * records each once on its audit trail (event `uncollected`); this reads them
 * from D1, newest first, for the service's provider.
 */
export type UncollectedCall = {
  request_id: string | null;
  account_id: string;
  agent_key_id: string | null;
  amount: number;
  currency: string;
  reason: string | null;
  at: string;
};

/** `after` is the position of the last item of the previous page: its time and request id. */
export async function uncollectedCalls(db: Db, serviceId: string, limit: number, after: AtPosition | null) {
  const position = after ? or(lt(auditEvents.at, after.at), and(eq(auditEvents.at, after.at), lt(auditEvents.requestId, after.id))) : undefined;
  const rows = await db
    .select({ event: auditEvents, currency: accounts.currency })
    .from(auditEvents)
    .innerJoin(accounts, eq(accounts.id, auditEvents.accountId))
    .where(and(eq(auditEvents.serviceId, serviceId), eq(auditEvents.event, "uncollected"), position))
    .orderBy(desc(auditEvents.at), desc(auditEvents.requestId))
    .limit(limit + 1);
  return newestFirstPage(
    rows,
    limit,
    ({ event: e, currency }): UncollectedCall => ({
      request_id: e.requestId,
      account_id: e.accountId,
      agent_key_id: e.agentKeyId,
      amount: e.amount ?? 0,
      currency,
      reason: e.reason,
      at: new Date(e.at).toISOString(),
    }),
    ({ event: e }) => ({ at: e.at, id: String(e.requestId) }),
  );
}
