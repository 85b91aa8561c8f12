/** Reading the real object (through RPC and its own storage) and what D1 holds for the account. */
import { runInDurableObject } from "cloudflare:test";
import type { AccountLedger } from "../../durable-objects/account";
import type { AuditEvent, Transfer } from "../../durable-objects/types";
import type { AuditRecord } from "../../core/audit-chain";
import { oldestFirst } from "../../worker/reports/pages";
import type { LedgerStub } from "../../worker/account-client/stub";
import { testEnv } from "../durable-objects/helpers";

export const fullJournal = (stub: LedgerStub): Promise<Transfer[]> => oldestFirst((cursor) => stub.transfers(100, cursor));
export const fullAudit = (stub: LedgerStub): Promise<AuditEvent[]> => oldestFirst((cursor) => stub.auditEvents(100, cursor));

export const asRecord = (e: AuditEvent): AuditRecord => ({ ...e, at: Date.parse(e.at) });

/** Storage as the object itself sees it, read in one synchronous go (no interleaving). */
export function rawState(stub: LedgerStub) {
  return runInDurableObject(stub, async (_i: AccountLedger, state) => {
    const sql = state.storage.sql;
    const balance = sql.exec<{ credits: number; debits: number; pending: number }>("SELECT credits, debits, pending FROM balance WHERE id = 1").one();
    const holds = sql
      .exec<{ id: string; request_id: string; state: string; amount: number; captured: number | null; reason: string | null }>(
        "SELECT id, request_id, state, amount, captured, reason FROM holds",
      )
      .toArray();
    const cursor = sql.exec<{ e: number; a: number }>("SELECT exported_seq AS e, audit_exported_seq AS a FROM export_state WHERE id = 1").one();
    const alarm = await state.storage.getAlarm();
    return { balance: { ...balance }, holds: holds.map((h) => ({ ...h })), cursor: { ...cursor }, alarm };
  });
}

export async function d1State(accountId: string) {
  const db = testEnv.DB;
  const [transfers, legs, audit] = await Promise.all([
    db.prepare("SELECT seq, id, kind, amount, fee, currency, hold_id, provider_id FROM transfers WHERE account_id = ? ORDER BY seq").bind(accountId).all(),
    db.prepare("SELECT seq, leg, transfer_id, ledger_account, amount FROM ledger_entries WHERE account_id = ? ORDER BY seq, leg").bind(accountId).all(),
    db.prepare("SELECT * FROM audit_events WHERE account_id = ? ORDER BY seq").bind(accountId).all(),
  ]);
  return {
    transfers: transfers.results as Record<string, unknown>[],
    legs: legs.results as Record<string, unknown>[],
    audit: audit.results as Record<string, unknown>[],
  };
}

/** Everything D1 holds for the account, byte for byte (to prove a second delivery changed nothing). */
export async function d1Dump(accountId: string) {
  const db = testEnv.DB;
  const q = (table: string) => db.prepare(`SELECT * FROM ${table} WHERE account_id = ? ORDER BY 1, 2, 3`).bind(accountId).all();
  const [t, l, a] = await Promise.all([q("transfers"), q("ledger_entries"), q("audit_events")]);
  return { t: t.results, l: l.results, a: a.results };
}
