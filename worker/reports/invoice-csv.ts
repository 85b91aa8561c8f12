import { type Cell, csvDocument } from "./csv";
import type { Invoice } from "./invoice";

/** The invoice CSV's columns; every record names the invoice, so files can be concatenated. */
export const INVOICE_CSV_HEADER = [
  "invoice_number",
  "account_id",
  "month",
  "currency",
  "line",
  "kind",
  "service_id",
  "service_name",
  "tag",
  "calls",
  "passes",
  "amount",
] as const;

/**
 * An invoice as CSV (RFC 4180, see csv.ts). Records by `line`: `charge` (a service: calls,
 * passes bought or renewed, amount = both), `tag` (a subtotal of the charge above it, `tag` = `name=value`; not added again),
 * `credit` and `debit` (by `kind`, a tip is a debit; `calls` = how many transfers), `payment`, then the totals
 * `charges`, `credits` and `total`. Amounts are positive as on the invoice: charges + debits =
 * `charges`, credits = `credits`, `total` = charges − credits.
 */
export function invoiceCsv(inv: Invoice): string {
  const rows: Cell[][] = [];
  const row = (
    line: string,
    kind: string | null,
    serviceId: string | null,
    name: string | null,
    tag: string | null,
    calls: number | null,
    amount: number,
    passes: number | null = null,
  ): Cell[] => [inv.invoice_number, inv.account_id, inv.month, inv.currency, line, kind, serviceId, name, tag, calls, passes, amount];
  for (const l of inv.lines) {
    rows.push(row("charge", "capture", l.service_id, l.name, null, l.calls, l.amount, l.passes));
    for (const t of l.tags) rows.push(row("tag", "capture", l.service_id, l.name, `${t.name}=${t.value}`, t.calls, t.amount));
  }
  for (const c of inv.credits) rows.push(row("credit", c.kind, c.service_id, c.name, null, c.count, c.amount));
  for (const d of inv.debits) rows.push(row("debit", d.kind, d.service_id, d.name, null, d.count, d.amount));
  rows.push(row("payment", "credit", null, null, null, inv.payments.count, inv.payments.amount));
  rows.push(row("charges", null, null, null, null, null, inv.totals.charges));
  rows.push(row("credits", null, null, null, null, null, inv.totals.credits));
  rows.push(row("total", null, null, null, null, null, inv.totals.total));
  return csvDocument(INVOICE_CSV_HEADER, rows);
}
