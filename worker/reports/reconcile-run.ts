import { accountsToReconcile } from "../accounts/store";
import { db } from "../db/client";
import type { Env } from "../env";
import {
  type AccountSnapshot,
  type D1LegRow,
  type D1TransferRow,
  type Discrepancy,
  type JournalRow,
  orphanAccounts,
  reconcileAccount,
  reconcileTotals,
} from "./reconcile";
import { exactSum } from "../../core/pricing/amount";
import { reconcilePayouts } from "./reconcile-payouts";
import { oldestFirst } from "./pages";
import { rpc } from "../account-client/rpc";
import { ledgerFor } from "../account-client/stub";

/** Journal rows fetched per DO call while reading an account's whole journal. */
const JOURNAL_PAGE = 1000;

export type ReconcileOptions = {
  /** One account only; otherwise a page of the accounts table after `after` (by id). */
  accountId?: string;
  after: string | null;
  limit: number;
  graceMs: number;
  now?: number;
};

export type ReconcileResult = {
  accounts: number;
  transfers_checked: number;
  not_yet_exported: number;
  discrepancies: Discrepancy[];
  /** The last account id of this page when more accounts follow. */
  next: string | null;
};

/**
 * Reconciles a page of accounts. The order of reads is what makes a concurrent export harmless:
 * each DO's export cursor first, then D1, then the DO's journal. D1 then holds at least every row
 * up to the cursor read, and the journal (which only grows) holds every row D1 showed.
 * Whole-ledger checks (I1 totals, rows of unknown accounts, payouts) run on the first page of a full run.
 */
export async function reconcilePage(env: Pick<Env, "DB" | "ACCOUNT">, opts: ReconcileOptions): Promise<ReconcileResult> {
  const now = opts.now ?? Date.now();
  const rows = await accountsToReconcile(db(env), opts);
  const ids = rows.map((r) => r.id);
  const page = ids.slice(0, opts.limit);
  const cursors = await Promise.all(page.map((id) => ledgerFor(env, id).exportCursor()));
  const d1 = await d1Rows(env.DB, page);
  const journals = await Promise.all(page.map((id, i) => (cursors[i] ? readJournal(env, id) : Promise.resolve([]))));

  const result: ReconcileResult = { accounts: page.length, transfers_checked: 0, not_yet_exported: 0, discrepancies: [], next: null };
  page.forEach((accountId, i) => {
    const cursor = cursors[i];
    const snapshot: AccountSnapshot = {
      accountId,
      createdAt: rows[i]?.created_at,
      ledger: cursor ? { exportedSeq: cursor.exported_seq, journal: journals[i] ?? [] } : null,
      d1Transfers: d1.transfers.get(accountId) ?? [],
      d1Legs: d1.legs.get(accountId) ?? [],
    };
    const r = reconcileAccount(snapshot, { now, graceMs: opts.graceMs });
    result.transfers_checked += r.checked;
    result.not_yet_exported += r.not_yet_exported;
    result.discrepancies.push(...r.discrepancies);
  });
  if (!opts.accountId && opts.after === null) result.discrepancies.unshift(...(await wholeLedger(env.DB)));
  if (!opts.accountId && ids.length > opts.limit) result.next = page[page.length - 1] ?? null;
  return result;
}

export type LedgerRepair = { account_id: string; ledger_opened: boolean };

/**
 * Repairs `ledger_not_opened`: opens the ledger of an account D1 lists, with D1's currency. The
 * ledger's `open` is idempotent for the same id and currency, so this is safe to repeat and safe
 * against a creation still under way. The creation's owner key was never delivered (the request
 * failed), so the account answers to the operator until it issues keys. Null: no such account;
 * "conflict": the ledger is open with another currency.
 */
export async function openLedger(env: Pick<Env, "DB" | "ACCOUNT">, accountId: string): Promise<LedgerRepair | null | "conflict"> {
  const [row] = await accountsToReconcile(db(env), { accountId, after: null, limit: 1 });
  if (!row) return null;
  const stub = ledgerFor(env, accountId);
  const wasOpen = (await stub.exportCursor()) !== null;
  const opened = await rpc.open(stub, row.id, row.currency);
  if (!opened.ok) return "conflict";
  return { account_id: row.id, ledger_opened: !wasOpen };
}

/** D1's transfers and legs for these accounts, in one batch (ids ≤ 50 keeps each statement under 100 parameters). */
async function d1Rows(d1: D1Database, ids: readonly string[]) {
  const transfers = new Map<string, D1TransferRow[]>();
  const legs = new Map<string, D1LegRow[]>();
  if (ids.length === 0) return { transfers, legs };
  const marks = ids.map(() => "?").join(", ");
  const [t, l] = await d1.batch<Record<string, unknown>>([
    d1
      .prepare(
        `SELECT account_id, seq, id, kind, amount, fee, currency, provider_id, refund_of, dispute_id, created_at FROM transfers WHERE account_id IN (${marks}) ORDER BY account_id, seq`,
      )
      .bind(...ids),
    d1
      .prepare(`SELECT account_id, seq, leg, ledger_account, amount FROM ledger_entries WHERE account_id IN (${marks}) ORDER BY account_id, seq, leg`)
      .bind(...ids),
  ]);
  for (const r of t?.results ?? []) {
    const row: D1TransferRow = {
      seq: Number(r.seq),
      id: String(r.id),
      kind: String(r.kind) as D1TransferRow["kind"],
      amount: Number(r.amount),
      fee: Number(r.fee),
      currency: String(r.currency),
      provider_id: r.provider_id == null ? null : String(r.provider_id),
      refund_of: r.refund_of == null ? null : String(r.refund_of),
      dispute_id: r.dispute_id == null ? null : String(r.dispute_id),
      created_at: Number(r.created_at),
    };
    push(transfers, String(r.account_id), row);
  }
  for (const r of l?.results ?? []) {
    push(legs, String(r.account_id), { seq: Number(r.seq), leg: Number(r.leg), ledger_account: String(r.ledger_account), amount: Number(r.amount) });
  }
  return { transfers, legs };
}

/** The account's whole journal from its DO, oldest first. */
async function readJournal(env: Pick<Env, "ACCOUNT">, accountId: string): Promise<JournalRow[]> {
  const stub = ledgerFor(env, accountId);
  const journal = await oldestFirst((cursor) => stub.transfers(JOURNAL_PAGE, cursor));
  return journal.map((t) => ({
    seq: t.seq,
    id: t.id,
    kind: t.kind,
    amount: t.amount,
    fee: t.fee,
    currency: t.currency,
    provider_id: t.provider_id,
    refund_of: t.refund_of,
    dispute_id: t.dispute_id,
    created_at: Date.parse(t.created_at),
  }));
}

/** The ids whose legs are payouts' (`account_id` = the provider): providers, and any payout's provider. */
const PAYOUT_HOLDERS = "SELECT id FROM providers UNION SELECT provider_id FROM payouts";

/**
 * I1 over all of D1 (per currency), ledger rows whose account the accounts table lacks, and every
 * payout against its legs (reconcile-payouts.ts). A provider's legs under its own id are its
 * payouts', which the payout check covers, so they are not reported as an unknown account.
 * Payouts are rare operator acts: all of them are read at once.
 */
async function wholeLedger(d1: D1Database): Promise<Discrepancy[]> {
  const [sums, orphans, payouts, payoutLegRows] = await d1.batch<Record<string, unknown>>([
    // As text: the sum is exact in SQLite; a JavaScript number past 2^53 − 1 would round it.
    d1.prepare("SELECT currency, CAST(SUM(amount) AS TEXT) AS total FROM ledger_entries GROUP BY currency ORDER BY currency"),
    d1.prepare(
      `SELECT account_id FROM transfers WHERE account_id NOT IN (SELECT id FROM accounts) UNION SELECT account_id FROM ledger_entries WHERE account_id NOT IN (SELECT id FROM accounts) AND account_id NOT IN (${PAYOUT_HOLDERS}) ORDER BY 1`,
    ),
    d1.prepare("SELECT id, provider_id, seq, amount, currency FROM payouts ORDER BY provider_id, seq"),
    d1.prepare(
      `SELECT account_id, seq, leg, transfer_id, ledger_account, amount, currency FROM ledger_entries WHERE account_id IN (${PAYOUT_HOLDERS}) ORDER BY account_id, seq, leg`,
    ),
  ]);
  return [
    ...reconcileTotals((sums?.results ?? []).map((r) => ({ currency: String(r.currency), total: exactSum(r.total) }))),
    ...orphanAccounts((orphans?.results ?? []).map((r) => String(r.account_id))),
    ...reconcilePayouts(
      (payouts?.results ?? []).map((r) => ({
        id: String(r.id),
        provider_id: String(r.provider_id),
        seq: Number(r.seq),
        amount: Number(r.amount),
        currency: String(r.currency),
      })),
      (payoutLegRows?.results ?? []).map((r) => ({
        account_id: String(r.account_id),
        seq: Number(r.seq),
        leg: Number(r.leg),
        transfer_id: String(r.transfer_id),
        ledger_account: String(r.ledger_account),
        amount: Number(r.amount),
        currency: String(r.currency),
      })),
    ),
  ];
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
