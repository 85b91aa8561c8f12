import type { ApiResult, DashboardApi } from "../../api";
import type { Charge, Service } from "./earnings";

export type { Charge, Service } from "./earnings";

/** How many pages of 100 a page reads per list: enough for a dashboard, bounded per request. */
const MAX_PAGES = 5;
/** The most charges of one service a page reads. */
export const MAX_CHARGES = MAX_PAGES * 100;

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
