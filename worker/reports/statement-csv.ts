import { type Cell, csvDocument } from "./csv";
import type { Statement } from "./statement";

/** The statement CSV's columns: one record per figure, `amount` carrying it (a service's net). */
export const STATEMENT_CSV_HEADER = [
  "provider_id",
  "month",
  "currency",
  "line",
  "service_id",
  "service_name",
  "calls",
  "passes_sold",
  "units",
  "gross",
  "fees",
  "amount",
] as const;

/**
 * A statement as CSV (RFC 4180, see csv.ts), in reading order per currency: `opening_balance`,
 * one `service` record each (calls, passes_sold, units, gross, fees; `amount` = net), `refunds`, `disputes`,
 * `tips`, `payouts`, `closing_balance`. The `amount` column of one currency's records adds up:
 * opening + every other record but closing = closing.
 */
export function statementCsv(s: Statement): string {
  const rows: Cell[][] = [];
  for (const c of s.currencies) {
    const figure = (line: string, amount: number): Cell[] => [s.provider_id, s.month, c.currency, line, null, null, null, null, null, null, null, amount];
    rows.push(figure("opening_balance", c.opening_balance));
    for (const svc of c.services) {
      rows.push([s.provider_id, s.month, c.currency, "service", svc.service_id, svc.name, svc.calls, svc.passes_sold, svc.units, svc.gross, svc.fees, svc.net]);
    }
    rows.push(figure("refunds", c.refunds), figure("disputes", c.disputes), figure("tips", c.tips), figure("payouts", c.payouts));
    rows.push(figure("closing_balance", c.closing_balance));
  }
  return csvDocument(STATEMENT_CSV_HEADER, rows);
}
