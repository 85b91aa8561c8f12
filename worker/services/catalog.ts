import { z } from "@hono/zod-openapi";
import { and, asc, eq, gt } from "drizzle-orm";
import { PriceRule } from "../../core/pricing/rules";
import type { Db } from "../db/client";
import { services } from "../db/schema";
import { PlanView, Protocol } from "./schema";
import { type ServiceRow, toService } from "./store";

/** A listed service as the public catalog shows it: what an agent needs to choose and call it. */
export const CatalogEntry = z
  .object({
    id: z.string(),
    slug: z.string().openapi({ description: "Call it at /s/{slug}/{path} (or with the MCP `call_service` tool)." }),
    name: z.string(),
    currency: z.string().openapi({ description: "ISO 4217: prices are micro-units of it; only accounts in it may call the service." }),
    prices: z.array(PriceRule),
    protocol: Protocol,
    plans: z.array(PlanView),
  })
  .openapi("CatalogEntry");
export type CatalogEntry = z.infer<typeof CatalogEntry>;

function toEntry(row: ServiceRow): CatalogEntry {
  const s = toService(row, []);
  return { id: s.id, slug: s.slug, name: s.name, currency: s.currency, prices: s.prices, protocol: s.protocol, plans: s.plans };
}

/** Listed services in id order, continuing after `after`; `last` is set when more follow. */
export async function listCatalog(db: Db, limit: number, after: string | null): Promise<{ data: CatalogEntry[]; last: string | null }> {
  const rows = await db
    .select()
    .from(services)
    .where(and(eq(services.listed, true), after ? gt(services.id, after) : undefined))
    .orderBy(asc(services.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { data: page.map(toEntry), last: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null };
}
