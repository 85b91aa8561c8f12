import { sql } from "drizzle-orm";
import type { Plan } from "../../core/pricing/plans";
import type { Db } from "../db/client";
import { services } from "../db/schema";
import { hostnamesOf, type Service, toService } from "./store";

/**
 * The service offering plan `planId`, and the plan, or null. Buying a pass is not the hot path
 * (one call per pass bought, not per proxied call), so this scans the services' plan lists with
 * `json_each` rather than keeping an index of plan ids: ids are unique because `resolvePlans`
 * only ever keeps a service's own ids or mints new random ones.
 */
export async function findPlan(db: Db, planId: string): Promise<{ service: Service; plan: Plan } | null> {
  const row = await db
    .select()
    .from(services)
    .where(sql`EXISTS (SELECT 1 FROM json_each(${services.plans}) AS p WHERE json_extract(p.value, '$.id') = ${planId})`)
    .get();
  if (!row) return null;
  const service = toService(row, (await hostnamesOf(db, [row.id])).get(row.id) ?? []);
  const plan = service.plans.find((p) => p.id === planId);
  return plan ? { service, plan } : null;
}
