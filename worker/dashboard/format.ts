/** Micro-units as a decimal amount: 1234567 → "1.234567", 10000000 → "10.00" (never floats). */
export function money(micro: number, currency?: string): string {
  const sign = micro < 0 ? "−" : "";
  const abs = BigInt(Math.abs(micro));
  const whole = (abs / 1_000_000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let frac = (abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  if (frac.length < 2) frac = frac.padEnd(2, "0");
  return `${sign}${whole}.${frac}${currency ? ` ${currency}` : ""}`;
}

/** An ISO timestamp (or ms) as "2026-12-04 10:49 UTC". */
export function when(at: string | number | null | undefined): string {
  if (at === null || at === undefined) return "—";
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The current UTC month, YYYY-MM. */
export function thisMonth(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

/**
 * A decimal amount typed into a form ("5", "5.25", "0.000001") as micro-units, parsed as text
 * (never through a float). Null when blank; undefined when not an amount.
 */
export function parseAmount(text: unknown): number | null | undefined {
  if (typeof text !== "string" || text.trim() === "") return null;
  const m = /^(\d{1,9})(?:\.(\d{1,6}))?$/.exec(text.trim().replaceAll(",", ""));
  if (!m) return undefined;
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? "").padEnd(6, "0"));
}

/** A form field as trimmed text ("" when absent or a file). */
export function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  return typeof v === "string" ? v.trim() : "";
}
