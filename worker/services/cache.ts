import { db } from "../db/client";
import type { Env } from "../env";
import { findServiceByHostname, findServiceBySlug, type Service } from "./store";

/**
 * Isolate-scope cache of service configuration, so a warm isolate answers a proxied call with
 * no D1 query. Misses are cached too (an unknown slug must not cost a query per call). A change
 * made through this isolate clears the cache at once; other isolates see it within TTL_MS.
 */
const TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

type Entry = { service: Service | null; until: number; pending?: Promise<Service | null> };
const entries = new Map<string, Entry>();

async function cached(key: string, load: () => Promise<Service | null>): Promise<Service | null> {
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && hit.until > now) return hit.pending ?? hit.service;
  // One load per key at a time: a burst of calls to a cold service makes one D1 query.
  const pending = load();
  entries.set(key, { service: null, until: now + TTL_MS, pending });
  try {
    const service = await pending;
    if (entries.size >= MAX_ENTRIES) entries.clear();
    entries.set(key, { service, until: Date.now() + TTL_MS });
    return service;
  } catch (err) {
    entries.delete(key);
    throw err;
  }
}

// A database client is made only on a miss: a warm call touches nothing but the map.
export function serviceBySlug(env: Pick<Env, "DB">, slug: string): Promise<Service | null> {
  return cached(`slug:${slug}`, () => findServiceBySlug(db(env), slug));
}

export function serviceByHostname(env: Pick<Env, "DB">, hostname: string): Promise<Service | null> {
  return cached(`host:${hostname}`, () => findServiceByHostname(db(env), hostname));
}

/** Forget everything (after a service is created or changed through this isolate). */
export function invalidateServices(): void {
  entries.clear();
}
