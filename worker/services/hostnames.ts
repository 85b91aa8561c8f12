import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { serviceHostnames } from "../db/schema";
import { ApiError } from "../errors";
import { randomToken } from "../../core/ids";

/**
 * Custom hostnames are claims. A provider that could route any name to itself would receive the
 * calls meant for that name (the gateway's own host, another company's API), priced by its rules
 * and paid to it. So: the gateway's own hosts can never be claimed, a name belongs to one service
 * at most (the table's primary key, whatever the claim's state), and a claim routes nothing until
 * its owner has proven control of the name: it publishes a DNS TXT record with the claim's
 * challenge, and the operator, having checked it, activates the claim.
 */
export type HostnameStatus = "pending" | "active";

export type HostnameClaim = {
  hostname: string;
  status: HostnameStatus;
  /** What the provider publishes to prove it controls the name. */
  verification: { type: "dns_txt"; name: string; value: string };
  activated_at: string | null;
};

/** The DNS label under which a claim's challenge is published: `_tollgate-challenge.<hostname>`. */
export const CHALLENGE_LABEL = "_tollgate-challenge";

/** Hosts that are always the gateway itself (local development, tests), whatever is configured. */
const LOCAL_GATEWAY_HOSTS = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** Whether `hostname` (lower case, as `URL.hostname` gives it) is one of the gateway's own hosts. */
export function isGatewayHost(hostname: string, configured: readonly string[]): boolean {
  return LOCAL_GATEWAY_HOSTS.test(hostname) || configured.includes(hostname);
}

/** Refuses a claim on one of the gateway's own hosts: those always serve the JSON API and `/s/{slug}`. */
export function assertClaimable(hostnames: readonly string[], configured: readonly string[]): void {
  const reserved = hostnames.filter((h) => isGatewayHost(h, configured));
  if (reserved.length > 0) {
    throw new ApiError("hostname_reserved", `${reserved.join(", ")}: the gateway's own host, which no service may claim.`, { hostnames: reserved });
  }
}

/** A new claim's challenge: random, so a record published for one claim proves no other. */
export function newChallenge(): string {
  return `tollgate-verify=${randomToken(32)}`;
}

type Row = typeof serviceHostnames.$inferSelect;

export function toClaim(row: Row): HostnameClaim {
  return {
    hostname: row.hostname,
    status: row.status,
    verification: { type: "dns_txt", name: `${CHALLENGE_LABEL}.${row.hostname}`, value: row.challenge },
    activated_at: row.activatedAt === null ? null : new Date(row.activatedAt).toISOString(),
  };
}

/** A D1 failure that means a hostname is already claimed (the primary key of service_hostnames). */
export function isHostnameTaken(err: unknown): boolean {
  const text = String((err as { cause?: unknown })?.cause ?? err);
  return /UNIQUE constraint failed: service_hostnames\.hostname|PRIMARY KEY.*service_hostnames/.test(text);
}

export function hostnameTaken(): ApiError {
  return new ApiError("hostname_taken", "One of the hostnames is already claimed by a service.");
}

/**
 * The operator's activation of a claim, once the TXT record is seen. Activating an active claim
 * changes nothing (a retried request is harmless). Null: the service has no such claim.
 */
export async function activateHostname(db: Db, serviceId: string, hostname: string): Promise<HostnameClaim | null> {
  const where = and(eq(serviceHostnames.hostname, hostname), eq(serviceHostnames.serviceId, serviceId));
  const row = await db.select().from(serviceHostnames).where(where).get();
  if (!row) return null;
  if (row.status === "active") return toClaim(row);
  const activated = await db
    .update(serviceHostnames)
    .set({ status: "active", activatedAt: Date.now() })
    .where(and(where, eq(serviceHostnames.status, "pending")))
    .returning()
    .get();
  // Null only if a concurrent activation (or removal) won: read what is there now.
  if (activated) return toClaim(activated);
  const now = await db.select().from(serviceHostnames).where(where).get();
  return now ? toClaim(now) : null;
}
