import { and, asc, eq, gt, inArray, notInArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { serviceHostnames, services } from "../db/schema";
import { ApiError } from "../errors";
import { newId } from "../../core/ids";
import { type Plan, type PlanInput, resolvePlans } from "../../core/pricing/plans";
import type { PriceRule, Protocol } from "../../core/pricing/rules";
import { type HostnameClaim, hostnameTaken, isHostnameTaken, newChallenge, toClaim } from "./hostnames";
import type { ServiceCreate, ServicePatch, Sla } from "./schema";

export type Service = {
  id: string;
  provider_id: string;
  slug: string;
  name: string;
  origin: string;
  /** ISO 4217: the price list's currency; only accounts in it may call the service. Fixed at create. */
  currency: string;
  /** Custom hostnames claimed by the service, pending or active (hostnames.ts). */
  hostnames: HostnameClaim[];
  prices: PriceRule[];
  /** `http`, or `mcp`: an MCP server whose tool calls are priced by name (worker/proxy/mcp.ts). */
  protocol: Protocol;
  timeout_ms: number;
  hold_timeout_s: number;
  /** The service's own take rate; null means the platform default applies. */
  fee_bps: number | null;
  /** The latency promise whose breach refunds a call (null: none). */
  sla: Sla | null;
  /** Passes agents can buy (core/pricing/plans.ts); empty when none. */
  plans: Plan[];
  /** In the public catalog (GET /v1/catalog). */
  listed: boolean;
  created_at: string;
  updated_at: string;
};

export type ServiceRow = typeof services.$inferSelect;

export function toService(row: ServiceRow, hostnames: HostnameClaim[]): Service {
  return {
    id: row.id,
    provider_id: row.providerId,
    slug: row.slug,
    name: row.name,
    origin: row.origin,
    currency: row.currency,
    hostnames,
    ...pricesOf(row.prices),
    timeout_ms: row.timeoutMs,
    hold_timeout_s: row.holdTimeoutS,
    fee_bps: row.feeBps,
    sla: row.sla ? (JSON.parse(row.sla) as Sla) : null,
    plans: row.plans ? (JSON.parse(row.plans) as Plan[]) : [],
    listed: row.listed,
    created_at: new Date(row.createdAt).toISOString(),
    updated_at: new Date(row.updatedAt).toISOString(),
  };
}

/**
 * The `prices` column: an http service's rules as a JSON list (as ever), an mcp service's as
 * `{"protocol": "mcp", "rules": [...]}` — the protocol decides how the rules are read, so it is
 * kept with them.
 */
function pricesOf(column: string): { prices: PriceRule[]; protocol: Protocol } {
  const stored = JSON.parse(column) as PriceRule[] | { protocol: Protocol; rules: PriceRule[] };
  return Array.isArray(stored) ? { prices: stored, protocol: "http" } : { prices: stored.rules, protocol: stored.protocol };
}

function pricesColumn(prices: readonly PriceRule[], protocol: Protocol): string {
  return protocol === "http" ? JSON.stringify(prices) : JSON.stringify({ protocol, rules: prices });
}

export async function hostnamesOf(db: Db, ids: string[]): Promise<Map<string, HostnameClaim[]>> {
  const byService = new Map<string, HostnameClaim[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return byService;
  const rows = await db.select().from(serviceHostnames).where(inArray(serviceHostnames.serviceId, ids)).orderBy(asc(serviceHostnames.hostname));
  for (const r of rows) byService.get(r.serviceId)?.push(toClaim(r));
  return byService;
}

/** Slug or hostname already taken: D1 reports it as a UNIQUE / PRIMARY KEY failure. */
function conflictOr(err: unknown): never {
  const text = String((err as { cause?: unknown })?.cause ?? err);
  if (/UNIQUE constraint failed: services\.slug/.test(text)) throw new ApiError("conflict", "That slug is taken.");
  if (isHostnameTaken(err)) throw hostnameTaken();
  throw err;
}

/**
 * New claims start pending (the column's default), each with its own challenge: they route
 * nothing until activated. Three bound values a row keeps 20 hostnames under D1's 100 per statement.
 */
const newClaims = (serviceId: string, hostnames: readonly string[]) => hostnames.map((hostname) => ({ hostname, serviceId, challenge: newChallenge() }));

/**
 * The plans column for a plan list as sent: new plans get ids, kept ids must be the service's
 * own (`current`), or the request fails with nothing changed. An empty list stores null.
 */
function plansColumn(input: readonly PlanInput[], current: readonly Plan[]): string | null {
  const resolved = resolvePlans(input, new Set(current.map((p) => p.id)), () => newId("pln"));
  if (!resolved.plans) {
    const detail = resolved.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    throw new ApiError("invalid_request", detail, { errors: resolved.issues });
  }
  return resolved.plans.length > 0 ? JSON.stringify(resolved.plans) : null;
}

export async function createService(db: Db, providerId: string, input: ServiceCreate): Promise<Service> {
  const now = Date.now();
  const row: ServiceRow = {
    id: newId("svc"),
    providerId,
    slug: input.slug,
    name: input.name,
    origin: input.origin,
    currency: input.currency,
    prices: pricesColumn(input.prices, input.protocol),
    timeoutMs: input.timeout_ms,
    holdTimeoutS: input.hold_timeout_s,
    feeBps: input.fee_bps ?? null,
    sla: input.sla ? JSON.stringify(input.sla) : null,
    plans: plansColumn(input.plans ?? [], []),
    listed: input.listed,
    createdAt: now,
    updatedAt: now,
  };
  const hostRows = newClaims(row.id, input.hostnames);
  try {
    // One atomic batch: the service and its hostnames exist together or not at all.
    if (hostRows.length > 0) await db.batch([db.insert(services).values(row), db.insert(serviceHostnames).values(hostRows)]);
    else await db.insert(services).values(row);
  } catch (err) {
    conflictOr(err);
  }
  const claims = hostRows.map((r) => toClaim({ ...r, status: "pending", activatedAt: null })).sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  return toService(row, claims);
}

/** A service, if `providerId` (when given) owns it; otherwise null, so callers answer 404. */
export async function getService(db: Db, id: string, providerId?: string): Promise<Service | null> {
  const row = await db.select().from(services).where(eq(services.id, id)).get();
  if (!row || (providerId && row.providerId !== providerId)) return null;
  return toService(row, (await hostnamesOf(db, [row.id])).get(row.id) ?? []);
}

export async function listServices(db: Db, opts: { providerId?: string; limit: number; after: string | null }) {
  const where = and(opts.providerId ? eq(services.providerId, opts.providerId) : undefined, opts.after ? gt(services.id, opts.after) : undefined);
  const rows = await db
    .select()
    .from(services)
    .where(where)
    .orderBy(asc(services.id))
    .limit(opts.limit + 1);
  const page = rows.slice(0, opts.limit);
  const hosts = await hostnamesOf(
    db,
    page.map((r) => r.id),
  );
  return {
    data: page.map((r) => toService(r, hosts.get(r.id) ?? [])),
    last: rows.length > opts.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

export async function updateService(db: Db, current: Service, patch: ServicePatch): Promise<Service> {
  const set: Partial<ServiceRow> = { updatedAt: Date.now() };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.origin !== undefined) set.origin = patch.origin;
  if (patch.prices !== undefined || patch.protocol !== undefined) set.prices = pricesColumn(patch.prices ?? current.prices, patch.protocol ?? current.protocol);
  if (patch.timeout_ms !== undefined) set.timeoutMs = patch.timeout_ms;
  if (patch.hold_timeout_s !== undefined) set.holdTimeoutS = patch.hold_timeout_s;
  if (patch.fee_bps !== undefined) set.feeBps = patch.fee_bps;
  if (patch.listed !== undefined) set.listed = patch.listed;
  if (patch.sla !== undefined) set.sla = patch.sla ? JSON.stringify(patch.sla) : null;
  // The list is replaced whole; ids are checked against the plans read just now.
  if (patch.plans !== undefined) set.plans = plansColumn(patch.plans, current.plans);
  const statements = [db.update(services).set(set).where(eq(services.id, current.id))] as const;
  try {
    if (patch.hostnames !== undefined) {
      // A listed hostname the service already has keeps its claim (an active one stays active);
      // one no longer listed is released; only new ones are claimed, pending. One atomic batch:
      // a hostname another service holds fails it all, and nothing changes.
      const listed = patch.hostnames;
      const had = new Set(current.hostnames.map((h) => h.hostname));
      const released = listed.length > 0 ? notInArray(serviceHostnames.hostname, listed) : undefined;
      const hostRows = newClaims(
        current.id,
        listed.filter((h) => !had.has(h)),
      );
      await db.batch([
        ...statements,
        db.delete(serviceHostnames).where(and(eq(serviceHostnames.serviceId, current.id), released)),
        ...(hostRows.length > 0 ? [db.insert(serviceHostnames).values(hostRows)] : []),
      ]);
    } else {
      await statements[0];
    }
  } catch (err) {
    conflictOr(err);
  }
  return (await getService(db, current.id)) as Service;
}

/** The hot path's lookups (cached by the caller): by slug, or by custom hostname. */
export async function findServiceBySlug(db: Db, slug: string): Promise<Service | null> {
  const row = await db.select().from(services).where(eq(services.slug, slug)).get();
  return row ? toService(row, (await hostnamesOf(db, [row.id])).get(row.id) ?? []) : null;
}

/** Only an active (proven) claim routes: a pending one is as if the name were unknown. */
export async function findServiceByHostname(db: Db, hostname: string): Promise<Service | null> {
  const link = await db
    .select()
    .from(serviceHostnames)
    .where(and(eq(serviceHostnames.hostname, hostname), eq(serviceHostnames.status, "active")))
    .get();
  return link ? getService(db, link.serviceId) : null;
}
