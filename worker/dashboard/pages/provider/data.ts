import type { ApiResult, DashboardApi, Json } from "../../api";

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

/** How many pages of 100 a page reads per list: enough for a dashboard, bounded per request. */
const MAX_PAGES = 5;

/** Every page of a cursor-paged API list (up to MAX_PAGES × 100 items), or the first refusal. */
async function allPages<T>(api: DashboardApi, path: string): Promise<{ ok: true; data: T[] } | { ok: false; result: ApiResult }> {
  const data: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < MAX_PAGES; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const res: ApiResult = await api.get(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (!res.ok) return { ok: false, result: res };
    data.push(...(res.body.data as T[]));
    cursor = res.body.next_cursor;
    if (!cursor) break;
  }
  return { ok: true, data };
}

export function providerServices(api: DashboardApi) {
  return allPages<Service>(api, "/v1/services");
}

/** The settled transfers of the provider's services (GET /v1/services/{id}/transfers), newest first. */
export async function providerCharges(api: DashboardApi, services: Service[]): Promise<{ ok: true; data: Charge[] } | { ok: false; result: ApiResult }> {
  const lists = await Promise.all(services.map((s) => allPages<Charge>(api, `/v1/services/${s.id}/transfers`)));
  const data: Charge[] = [];
  for (const list of lists) {
    if (!list.ok) return list;
    data.push(...list.data);
  }
  data.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1));
  return { ok: true, data };
}

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
