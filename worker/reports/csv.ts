import type { JournalEntry } from "./journal-entry";

/**
 * CSV for spreadsheets and ERP imports: RFC 4180 (fields quoted when they hold a comma, quote,
 * CR or LF; quotes doubled; CRLF line ends; a header row), with formula injection neutralized.
 */

export type Cell = string | number | null | undefined;

/** Characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell. Text starting with = + - @ tab or CR gets a leading `'`, so Excel, Sheets and
 * LibreOffice show it as text instead of evaluating it. Numbers are written as numbers (a
 * negative amount stays a number); null and undefined are empty.
 */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return "";
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    text = String(value);
  } else {
    text = FORMULA_START.test(value) ? `'${value}` : value;
  }
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvRow(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/** A whole document: header row then records. */
export function csvDocument(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return csvRow(header) + rows.map(csvRow).join("");
}

/** The journal-entry export's columns (the CSV form of `journalEntries` in worker/reports/entries.ts). */
export const CSV_HEADER = [
  "id",
  "date",
  "created_at",
  "debit_account",
  "credit_account",
  "amount",
  "currency",
  "transfer_id",
  "transfer_kind",
  "account_id",
  "seq",
  "leg",
  "service_id",
  "request_id",
  "mandate_id",
  "reference",
  "tags",
] as const;

/** An entry as a CSV record; tags as `name=value` pairs in name order, comma-separated. */
export function entryCsvRow(e: JournalEntry): string {
  const tags = e.tags
    ? Object.keys(e.tags)
        .sort()
        .map((k) => `${k}=${e.tags?.[k]}`)
        .join(",")
    : null;
  return csvRow([
    e.id,
    e.date,
    e.created_at,
    e.debit_account,
    e.credit_account,
    e.amount,
    e.currency,
    e.transfer_id,
    e.transfer_kind,
    e.account_id,
    e.seq,
    e.leg,
    e.service_id,
    e.request_id,
    e.mandate_id,
    e.reference,
    tags,
  ]);
}
