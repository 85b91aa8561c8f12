/**
 * The general-ledger view of D1's double-entry legs, for finance: a credit or capture has one debit
 * leg (its negative leg) and one or more credit legs, and every credit leg becomes one journal
 * entry "debit X, credit Y, amount"; a refund is the other way round (one credit leg, the payer's,
 * and a debit leg each for the provider and the platform's fee), and every debit leg becomes one entry. Ledger accounts are named by their Tollgate ids (`acct_…`,
 * `prov_…`, `platform`, `external`).
 */
export type JournalEntry = {
  /** Stable: the transfer id and the credit leg's index. */
  id: string;
  /** UTC date of the transfer (YYYY-MM-DD). */
  date: string;
  created_at: string;
  debit_account: string | null;
  credit_account: string;
  amount: number;
  currency: string;
  transfer_id: string;
  transfer_kind: string;
  /** The payer account whose journal the transfer belongs to, and its position there. */
  account_id: string;
  seq: number;
  leg: number;
  service_id: string | null;
  request_id: string | null;
  mandate_id: string | null;
  reference: string | null;
  tags: Record<string, string> | null;
};
