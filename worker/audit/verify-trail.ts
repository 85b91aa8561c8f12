import type { LedgerStub } from "../account-client/stub";
import { toAuditRecord } from "../../core/audit-chain";
import { type AuditVerification, compareWithLedger, verifyD1ChainPaged } from "./verify";

/** Events read from D1 per query while verifying a trail: memory stays one page, not the trail. */
export const VERIFY_PAGE = 500;

/**
 * Verifies one account's audit trail in D1 against its ledger (GET /v1/accounts/{id}/audit/verify).
 * Null when the account has no ledger. `pageSize` is a parameter so tests can cross pages with a
 * short trail.
 */
export async function verifyAuditTrail(d1: D1Database, ledger: LedgerStub, accountId: string, pageSize = VERIFY_PAGE): Promise<AuditVerification | null> {
  // The head first, then D1, then the ledger's event at D1's end: an export running meanwhile
  // only makes D1 longer than the head, which the anchor then vouches for.
  const head = await ledger.auditHead();
  if (!head) return null;
  const page = d1.prepare("SELECT * FROM audit_events WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?");
  const chain = await verifyD1ChainPaged(
    async (after, n) => (await page.bind(accountId, after, n).all<Record<string, unknown>>()).results.map(toAuditRecord),
    pageSize,
  );
  const last = chain.ok ? chain.d1_head_seq : 0;
  const found = last > 0 ? (await ledger.auditEvents(1, last + 1)).data[0] : undefined;
  const anchor = found && found.seq === last ? { seq: found.seq, hash: found.hash } : null;
  return compareWithLedger(chain, head, anchor);
}
