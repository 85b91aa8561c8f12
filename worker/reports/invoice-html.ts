import type { AdjustmentKind, Invoice } from "./invoice";

/**
 * An invoice as one printable, self-contained HTML page: inline CSS (with a print layout), no
 * script, no external resource. Every value from the ledger (service names, tags, ids) passes
 * through `escapeHtml`, so a name like `<script>` is shown, never run.
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Micro-units as a decimal with six places (1 234 567 → "1.234567"), exact: no float on the way. */
export function formatMicro(amount: number): string {
  const digits = String(Math.abs(amount)).padStart(7, "0");
  return `${amount < 0 ? "−" : ""}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

const KIND_LABEL: Record<AdjustmentKind, string> = {
  refund: "Refund",
  dispute_refund: "Refund (dispute)",
  compensation: "Compensation",
  repayment: "Repayment of a compensation",
  tip: "Tip",
};

const STYLE = `
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  .meta { color: #555; margin: 0 0 1.5rem; }
  .meta dt { float: left; clear: left; width: 9rem; }
  .meta dd { margin: 0 0 0 9rem; }
  table { width: 100%; border-collapse: collapse; margin: 0 0 1.5rem; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
  th { background: #f4f4f4; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr.tag td { color: #555; font-size: .9em; }
  tr.tag td:first-child { padding-left: 1.5rem; }
  tfoot td { font-weight: 600; border-bottom: none; }
  tfoot tr.total td { border-top: 2px solid #111; font-size: 1.1em; }
  .note { color: #555; font-size: .9em; }
  @media print {
    body { margin: 0; max-width: none; font-size: 11pt; }
    th { background: none; border-bottom: 1.5pt solid #000; }
    tr { page-break-inside: avoid; }
    .note { color: #000; }
  }`;

export function invoiceHtml(inv: Invoice): string {
  const e = escapeHtml;
  const money = (amount: number) => `${e(inv.currency)} ${formatMicro(amount)}`;
  const service = (id: string | null, name: string | null) => `${e(name ?? "(unnamed service)")}<br><span class="note">${e(id ?? "")}</span>`;
  const rows: string[] = [];
  for (const l of inv.lines) {
    // Count is the calls; passes sold are named beside them, their amounts in the line's.
    const passes = l.passes > 0 ? `<br><span class="note">and ${l.passes} pass${l.passes === 1 ? "" : "es"} bought or renewed</span>` : "";
    rows.push(`<tr><td>${service(l.service_id, l.name)}${passes}</td><td class="num">${l.calls}</td><td class="num">${money(l.amount)}</td></tr>`);
    for (const t of l.tags) {
      rows.push(`<tr class="tag"><td>${e(t.name)} = ${e(t.value)}</td><td class="num">${t.calls}</td><td class="num">(${money(t.amount)})</td></tr>`);
    }
  }
  for (const d of inv.debits) {
    rows.push(
      `<tr><td>${e(KIND_LABEL[d.kind])}: ${service(d.service_id, d.name)}</td><td class="num">${d.count}</td><td class="num">${money(d.amount)}</td></tr>`,
    );
  }
  for (const c of inv.credits) {
    rows.push(
      `<tr><td>${e(KIND_LABEL[c.kind])}: ${service(c.service_id, c.name)}</td><td class="num">${c.count}</td><td class="num">−${money(c.amount)}</td></tr>`,
    );
  }
  if (rows.length === 0) rows.push(`<tr><td colspan="3" class="note">No charges, credits or debits this month.</td></tr>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Invoice ${e(inv.invoice_number)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Invoice ${e(inv.invoice_number)}</h1>
<dl class="meta">
<dt>Account</dt><dd>${e(inv.account_name)} (${e(inv.account_id)})</dd>
<dt>Period</dt><dd>${e(inv.month)} (UTC): ${e(inv.from)} to ${e(inv.to)}, exclusive</dd>
<dt>Currency</dt><dd>${e(inv.currency)}</dd>
<dt>Status</dt><dd>${inv.final ? "Final" : "Provisional: the month is not over, or ended moments ago"}</dd>
</dl>
<table>
<thead><tr><th>Item</th><th class="num">Count</th><th class="num">Amount</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
<tfoot>
<tr><td colspan="2">Charges</td><td class="num">${money(inv.totals.charges)}</td></tr>
<tr><td colspan="2">Credits</td><td class="num">−${money(inv.totals.credits)}</td></tr>
<tr class="total"><td colspan="2">Total</td><td class="num">${money(inv.totals.total)}</td></tr>
</tfoot>
</table>
<p class="note">Tag rows (indented, in brackets) are subtotals of the service above them and are not added again. Payments received this month: ${inv.payments.count}, ${money(inv.payments.amount)}. Amounts are exact; the ledger counts in micro-units (millionths).</p>
</body>
</html>
`;
}
