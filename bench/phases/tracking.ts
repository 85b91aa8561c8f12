/**
 * Figures 7a and 7b (tracked, no goal): workerd's RSS and the DO SQLite bytes per account after
 * touching `trackAccounts` new accounts (open, credit, agent key, one metered call).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ARM_PATH, agentCall, inParallel, payer } from "../api.ts";
import { median } from "../load.ts";
import { rssBytes, untilIdle } from "../proc.ts";
import { sqliteLogicalBytes } from "../sqlite.ts";
import { round1, type Run } from "./context.ts";

/** Records `tracking`. */
export async function perAccountFootprint({ cfg, log, gateway: g, result }: Run): Promise<void> {
  await untilIdle(g.pid);
  const filesBefore = sqliteFiles(g.doDir);
  const rss0 = rssBytes(g.pid);
  log(`tracking: touching ${cfg.trackAccounts} accounts (open, credit, key, one metered call)`);
  const t0 = Date.now();
  await inParallel(
    Array.from({ length: cfg.trackAccounts }, (_, i) => i),
    16,
    async (i) => {
      const p = await payer(g, `track-${i}`, 1_000_000_000);
      const call = agentCall(p, ARM_PATH.tollgate);
      const res = await fetch(`${g.url}${call.path}`, { method: call.method, headers: call.headers, body: call.body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`tracking call for ${p.id} answered ${res.status}`);
    },
  );
  const touchS = (Date.now() - t0) / 1000;
  await untilIdle(g.pid);
  const rss1 = rssBytes(g.pid);
  const filesAfter = sqliteFiles(g.doDir);
  const fresh = [...filesAfter.entries()].filter(([name]) => !filesBefore.has(name));
  const dbBytes = fresh.map(([name]) => sqliteLogicalBytes(name));
  const allBytes = fresh.map(([, f]) => f.db + f.wal + f.shm);
  result.tracking = {
    accounts: cfg.trackAccounts,
    seconds: round1(touchS, 1),
    workerd_rss_before_mib: round1(rss0 / 2 ** 20, 1),
    workerd_rss_after_mib: round1(rss1 / 2 ** 20, 1),
    rss_bytes_per_account: Math.round((rss1 - rss0) / cfg.trackAccounts),
    sqlite_files: fresh.length,
    sqlite_bytes_per_account: fresh.length ? Math.round(dbBytes.reduce((a, b) => a + b, 0) / fresh.length) : null,
    sqlite_bytes_median: fresh.length ? median(dbBytes) : null,
    sqlite_disk_bytes_per_account: fresh.length ? Math.round(allBytes.reduce((a, b) => a + b, 0) / fresh.length) : null,
    note: "sqlite_bytes = the database's logical size (pages × page size after the last commit, read from the file and its WAL); disk bytes = .sqlite + -wal + -shm files as they lie (workerd rarely checkpoints)",
  };
}

/** DO SQLite files under Miniflare's persistence directory, by name: main, -wal and -shm bytes. */
function sqliteFiles(dir: string): Map<string, { db: number; wal: number; shm: number }> {
  const out = new Map<string, { db: number; wal: number; shm: number }>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const m = /^(.*\.sqlite)(-wal|-shm)?$/.exec(path);
        if (!m) continue;
        const key = m[1] as string;
        const f = out.get(key) ?? { db: 0, wal: 0, shm: 0 };
        const size = statSync(path).size;
        if (m[2] === "-wal") f.wal = size;
        else if (m[2] === "-shm") f.shm = size;
        else f.db = size;
        out.set(key, f);
      }
    }
  };
  walk(dir);
  return out;
}
