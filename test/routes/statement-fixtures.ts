/**
 * Fixtures for the statement and invoice tests, written straight into D1 in the exact shape the
 * export writes (durable-objects/export-page.ts: a `transfers` row and its legs from `legsOf`,
 * leg i numbered i, carrying the transfer's tags and time) and the shape payouts write (a
 * `payouts` row and its two legs from `payoutLegs`, filed under the provider with the payout's
 * seq and id). They stand in for what the gateway cannot make in a test: transfers at a chosen
 * past instant (month boundaries), and the dispute and payout flows, which have no route yet.
 * Fixture seqs start far above any journal's, so a later export of the account never collides.
 */
import { type LegSource, legsOf, payoutLegs } from "../../core/legs";
import { newId } from "../../core/ids";
import { DB } from "./ledger-helpers";

export type FixtureTransfer = {
  kind: LegSource["kind"];
  amount: number;
  fee?: number;
  currency?: string;
  serviceId?: string | null;
  providerId?: string | null;
  usage?: Record<string, unknown> | null;
  tags?: Record<string, string> | null;
  refundOf?: string | null;
  disputeId?: string | null;
  /**
   * A capture is a call's (it has a hold, `hold_…` made up) unless `pass` says it sold a pass:
   * then it has no hold, `reason` is `pass_purchase` or `pass_renewal` and `reference` the pass.
   */
  pass?: { reason: "pass_purchase" | "pass_renewal"; passId: string };
  /** A tip's message (its `reason`). */
  reason?: string | null;
  at: number;
};

const ID_PREFIX = { credit: "tr", capture: "tr", refund: "rf", compensation: "cp", repayment: "rp", tip: "tip" } as const;
let nextSeq = 1_000_000;

/** One settled transfer of `accountId` and its legs, as the export writes them; returns its id. */
export async function insertTransfer(accountId: string, t: FixtureTransfer): Promise<string> {
  const seq = nextSeq++;
  const id = newId(ID_PREFIX[t.kind]);
  const fee = t.fee ?? 0;
  const currency = t.currency ?? "USD";
  const tags = t.tags ? JSON.stringify(t.tags) : null;
  const providerId = t.providerId ?? null;
  const holdId = t.kind === "capture" && !t.pass ? newId("hold") : null;
  const statements = [
    DB.prepare(
      "INSERT INTO transfers (account_id, seq, id, kind, amount, currency, hold_id, reference, reason, service_id, provider_id, usage, fee, tags, refund_of, dispute_id, created_at) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).bind(
      accountId,
      seq,
      id,
      t.kind,
      t.amount,
      currency,
      holdId,
      t.pass?.passId ?? null,
      t.pass?.reason ?? t.reason ?? null,
      t.serviceId ?? null,
      providerId,
      t.usage ? JSON.stringify(t.usage) : null,
      fee,
      tags,
      t.refundOf ?? null,
      t.disputeId ?? null,
      t.at,
    ),
    ...legsOf(accountId, { kind: t.kind, amount: t.amount, fee, provider_id: providerId }).map((l, i) =>
      DB.prepare(
        "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ).bind(accountId, seq, i, id, l.ledgerAccount, l.amount, currency, tags, t.at),
    ),
  ];
  await DB.batch(statements);
  return id;
}

const payoutSeqs = new Map<string, number>();

/** A payout of the provider: its row and its two legs, in one batch (as the payout's transaction writes them). */
export async function insertPayout(providerId: string, amount: number, currency: string, at: number): Promise<string> {
  const seq = (payoutSeqs.get(providerId) ?? 0) + 1;
  payoutSeqs.set(providerId, seq);
  const id = newId("po");
  await DB.batch([
    DB.prepare("INSERT INTO payouts (id, provider_id, seq, amount, currency, created_at) VALUES (?, ?, ?, ?, ?, ?)").bind(
      id,
      providerId,
      seq,
      amount,
      currency,
      at,
    ),
    ...payoutLegs(providerId, amount).map((l, i) =>
      DB.prepare(
        "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
      ).bind(providerId, seq, i, id, l.ledgerAccount, l.amount, currency, at),
    ),
  ]);
  return id;
}

/** The first millisecond of a UTC month (`month` 1–12). */
export const monthStart = (year: number, month: number) => Date.UTC(year, month - 1, 1);

/** Σ a ledger account's legs in `[from, to)` and one currency, straight from `ledger_entries`. */
export async function legSum(ledgerAccount: string, currency: string, from: number, to: number, where = "1 = 1", ...params: unknown[]): Promise<number> {
  const row = await DB.prepare(
    `SELECT COALESCE(SUM(e.amount), 0) AS s FROM ledger_entries e LEFT JOIN transfers t ON t.account_id = e.account_id AND t.seq = e.seq ` +
      `WHERE e.ledger_account = ? AND e.currency = ? AND e.created_at >= ? AND e.created_at < ? AND (${where})`,
  )
    .bind(ledgerAccount, currency, from, to, ...params)
    .first<{ s: number }>();
  return Number(row?.s ?? 0);
}

/** The UTC month `YYYY-MM` an instant falls in. */
export const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7);
