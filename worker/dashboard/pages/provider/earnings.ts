/**
 * What the provider pages compute from the API's answers, with nothing else imported (so the
 * figures can be tested on their own): earnings by day and by service, usage as text.
 */

// biome-ignore lint/suspicious/noExplicitAny: price rules and plans are shown as the API gives them
type Json = any;

/** A service as the API returns it (the fields the pages show). */
export type Service = {
  id: string;
  slug: string;
  name: string;
  origin: string;
  currency: string;
  prices: Json[];
  plans: Json[];
  hostnames: { hostname: string; status: string; verification: { name: string; value: string } }[];
  protocol: string;
  listed: boolean;
  created_at: string;
  verification?: { jwks_url?: string };
};

/** A settled charge (or refund, pass sale…) of one of the provider's services. */
export type Charge = {
  id: string;
  account_id: string;
  kind: string;
  amount: number;
  fee: number;
  currency: string;
  request_id: string | null;
  service_id: string | null;
  usage: Record<string, unknown> | null;
  shortfall: number;
  created_at: string;
};

/** What the provider earned from a transfer: a charge less the platform's fee (a refund counts negative). */
export function providerNet(t: Charge): number {
  return t.amount - t.fee;
}

/** Earnings per UTC day of the last `days` days (oldest first), one currency. */
export function earningsByDay(charges: Charge[], currency: string, days: number, now = new Date()): { label: string; value: number }[] {
  const byDay = new Map<string, number>();
  for (let i = days - 1; i >= 0; i--) byDay.set(new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10), 0);
  for (const t of charges) {
    if (t.kind !== "capture" || t.currency !== currency) continue;
    const day = t.created_at.slice(0, 10);
    if (byDay.has(day)) byDay.set(day, (byDay.get(day) ?? 0) + providerNet(t));
  }
  return [...byDay].map(([day, value]) => ({ label: day.slice(5), value }));
}

/** Earnings (charges less fees) per service, one currency, largest first. */
export function earningsByService(charges: Charge[], services: Service[], currency: string): { label: string; value: number }[] {
  const names = new Map(services.map((s) => [s.id, s.name]));
  const sums = new Map<string, number>();
  for (const t of charges) {
    if (t.kind !== "capture" || t.currency !== currency || !t.service_id) continue;
    sums.set(t.service_id, (sums.get(t.service_id) ?? 0) + providerNet(t));
  }
  return [...sums].map(([id, value]) => ({ label: names.get(id) ?? id, value })).sort((a, b) => b.value - a.value);
}

/** A transfer's usage as short text: `tokens=1200, units=3`. */
export function usageText(usage: Record<string, unknown> | null): string {
  if (!usage) return "";
  return Object.entries(usage)
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(", ");
}
