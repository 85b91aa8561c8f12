/**
 * Starts the built Worker under Miniflare (workerd, no wrangler dev proxy) for the benchmark:
 * the same bundle `wrangler deploy` would upload, the D1 binding with the migrations applied,
 * the AccountLedger Durable Object (SQLite), on-disk persistence in a temporary directory, and
 * the bench-only pass-through switched on (BENCH_PASSTHROUGH = "1", BENCH_ORIGIN).
 *
 * Unless `d1Counter` is false, the Worker's `DB` is a wrapped binding around the real D1 database
 * that counts D1 calls (and how many journal transfers each export batch carried); the Worker's
 * bench route `/__bench/d1-stats` reports the counters. Everything else about D1 is unchanged.
 */
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { D1_COUNTER_SCRIPT } from "./d1-counter.ts";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
const require = createRequire(import.meta.url);
const WRANGLER_PKG = require.resolve("wrangler/package.json");
const WRANGLER = join(dirname(WRANGLER_PKG), "bin", "wrangler.js");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" };

/** The slice of D1's API the harness uses (through Miniflare's proxy). */
export type D1Like = {
  prepare(sql: string): {
    bind(...values: unknown[]): { all<T = Record<string, unknown>>(): Promise<{ results: T[] }>; run(): Promise<unknown> };
    all<T = Record<string, unknown>>(): Promise<{ results: T[] }>;
    run(): Promise<unknown>;
  };
  batch(statements: unknown[]): Promise<unknown>;
};

type MiniflareInstance = {
  ready: Promise<URL>;
  dispose(): Promise<void>;
  getD1Database(bindingName: string, workerName?: string): Promise<D1Like>;
  unsafeGetDirectURL(workerName?: string, entrypoint?: string): Promise<URL>;
};
type MiniflareCtor = new (options: Record<string, unknown>) => MiniflareInstance;

export type Gateway = {
  /** Base URL of the Worker (a direct socket to it: no Miniflare entry worker in between). */
  url: string;
  operatorToken: string;
  /** The workerd process serving it. */
  pid: number;
  /** Where the Durable Objects' SQLite files live. */
  doDir: string;
  d1: D1Like;
  /** Whether the counting D1 wrapper is installed (`/__bench/d1-stats` answers). */
  d1Counter: boolean;
  miniflareVersion: string;
  /** The bundle workerd runs (deleted by stop()). */
  bundlePath: string;
  stop: () => Promise<void>;
};

/** A fresh Ed25519 key for this run only (the `SIGNING_KEYS` secret: the gateway signs every forwarded call). */
function benchSigningKeys(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" }) as { kty: string; crv: string; x: string; d: string };
  return JSON.stringify([{ kid: "bench", kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }]);
}

/**
 * Where the DO and D1 SQLite files live: memory (/dev/shm) unless asked for disk. On Cloudflare
 * neither is a local disk; here a disk's write-ahead-log syncs would be counted as Tollgate's CPU
 * (≈ 0.5 ms more per metered call on this machine's disk), which measures the disk, not the code.
 */
function storageRoot(disk: boolean): string {
  return !disk && existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
}

/** Bundles the Worker exactly as a deploy would (`wrangler deploy --dry-run --outdir`). */
function bundle(outDir: string, root: string): string {
  execFileSync(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outDir], { cwd: root, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
  return join(outDir, "index.js");
}

/** `compatibility_date`, `compatibility_flags` and `[vars]` from wrangler.toml (the few lines the bench needs). */
function wranglerToml(root: string): { compatibilityDate: string; compatibilityFlags: string[]; vars: Record<string, string> } {
  const text = readFileSync(join(root, "wrangler.toml"), "utf8");
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  if (!compatibilityDate) throw new Error("wrangler.toml has no compatibility_date");
  const vars: Record<string, string> = {};
  const section = /^\[vars\]\s*\n([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? "";
  for (const m of section.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)) vars[m[1] as string] = m[2] as string;
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? "";
  const compatibilityFlags = [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
  return { compatibilityDate, compatibilityFlags, vars };
}

/** Miniflare as wrangler itself resolves it: the runtime `npm start` runs. */
async function loadMiniflare(): Promise<{ Miniflare: MiniflareCtor; version: string }> {
  const fromWrangler = createRequire(WRANGLER_PKG);
  const entry = fromWrangler.resolve("miniflare");
  const pkg = JSON.parse(readFileSync(join(entry.slice(0, entry.lastIndexOf("/dist/")), "package.json"), "utf8")) as { version: string };
  const mod = (await import(pathToFileURL(entry).href)) as { Miniflare?: MiniflareCtor; default?: { Miniflare: MiniflareCtor } };
  const Miniflare = mod.Miniflare ?? mod.default?.Miniflare;
  if (!Miniflare) throw new Error(`no Miniflare export in ${entry}`);
  return { Miniflare, version: pkg.version };
}

/** The D1 migrations, statement by statement, in file order. */
function migrationStatements(root: string): string[] {
  const dir = join(root, "migrations");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("--> statement-breakpoint"))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Child processes of `pid` as [pid, command name]. */
export function childProcesses(pid: number): { pid: number; comm: string }[] {
  const out = execFileSync("ps", ["--ppid", String(pid), "-o", "pid=,comm="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [p, ...rest] = l.split(/\s+/);
      return { pid: Number(p), comm: rest.join(" ") };
    });
}

export async function startGateway(options: {
  originUrl: string;
  d1Counter?: boolean;
  /** Keep DO and D1 SQLite files in the OS temp dir (usually disk) instead of /dev/shm. */
  disk?: boolean;
  /** The tree to bundle and run (default: this one; bench/compare.ts passes another checkout). */
  root?: string;
  /** Opens workerd's V8 inspector on this port (bench/profile.ts). */
  inspectorPort?: number;
  log?: (line: string) => void;
}): Promise<Gateway> {
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(storageRoot(options.disk ?? false), "tollgate-bench-"));
  const doDir = join(dir, "do");
  const d1Dir = join(dir, "d1");
  mkdirSync(doDir);
  mkdirSync(d1Dir);
  const before = new Set(childProcesses(process.pid).map((c) => c.pid));
  let mf: MiniflareInstance | null = null;
  const stop = async () => {
    await mf?.dispose().catch(() => undefined);
    mf = null;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    log("bundling the Worker (wrangler deploy --dry-run)…");
    const root = options.root ?? ROOT;
    const script = bundle(join(dir, "bundle"), root);
    const { compatibilityDate, compatibilityFlags, vars } = wranglerToml(root);
    const { Miniflare, version } = await loadMiniflare();
    const operatorToken = `bench-operator-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const d1Counter = options.d1Counter ?? true;
    const DB_ID = "tollgate-bench";
    const tollgate: Record<string, unknown> = {
      name: "tollgate",
      modules: [{ type: "ESModule", path: script, contents: readFileSync(script, "utf8") }],
      modulesRoot: dirname(script),
      compatibilityDate,
      compatibilityFlags,
      bindings: {
        ...vars,
        OPERATOR_TOKEN: operatorToken,
        SIGNING_KEYS: benchSigningKeys(),
        BENCH_PASSTHROUGH: "1",
        BENCH_ORIGIN: options.originUrl,
        // The bench origin listens on 127.0.0.1; production never sets this (wrangler.toml).
        ALLOW_PRIVATE_ORIGINS: "true",
      },
      durableObjects: { ACCOUNT: { className: "AccountLedger", useSQLite: true }, SHARD: { className: "AccountShard", useSQLite: true } },
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      ...(d1Counter ? { wrappedBindings: { DB: { scriptName: "bench-d1-counter" } } } : { d1Databases: { DB: DB_ID } }),
    };
    const workers: Record<string, unknown>[] = [
      tollgate,
      // Holds the same D1 database, so the harness can migrate and query it from Node.
      {
        name: "bench-admin",
        modules: true,
        script: "export default { fetch() { return new Response('bench-admin'); } };",
        compatibilityDate,
        d1Databases: { DB: DB_ID },
      },
    ];
    if (d1Counter) workers.push({ name: "bench-d1-counter", modules: true, script: D1_COUNTER_SCRIPT, d1Databases: { INNER: DB_ID } });
    mf = new Miniflare({
      workers,
      host: "127.0.0.1",
      port: 0,
      durableObjectsPersist: doDir,
      d1Persist: d1Dir,
      kvPersist: false,
      cachePersist: false,
      ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
    });
    await mf.ready;
    const url = (await mf.unsafeGetDirectURL("tollgate")).href.replace(/\/$/, "");
    const d1 = await mf.getD1Database("DB", "bench-admin");
    const statements = migrationStatements(root);
    for (const sql of statements) await d1.prepare(sql).run();
    log(`applied ${statements.length} D1 migration statements`);

    const spawned = childProcesses(process.pid).filter((c) => !before.has(c.pid) && c.comm.startsWith("workerd"));
    const pid = spawned[0]?.pid;
    if (!pid) throw new Error("could not find the workerd process (ps --ppid)");
    const res = await fetch(`${url}/`);
    if (!res.ok) throw new Error(`the gateway answered ${res.status} on /`);
    await res.arrayBuffer();
    return { url, operatorToken, pid, doDir, d1, d1Counter, miniflareVersion: version, bundlePath: script, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Starts bench/origin.ts as its own Node process (so it can be pinned apart). */
export async function startOriginProcess(): Promise<{ url: string; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench", "origin.ts"), "--port", "0", "--exit-with-stdin"], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        child.stdout?.off("data", onData);
        resolve(buf.slice(0, nl));
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`bench origin exited with ${code}`)));
    setTimeout(() => reject(new Error("bench origin did not start in 30 s")), 30_000).unref();
  });
  const { url } = JSON.parse(line) as { url: string };
  const stop = () => {
    child.stdin?.end();
    if (child.exitCode === null && child.pid !== undefined) child.kill("SIGTERM");
  };
  process.once("exit", stop);
  return { url, pid: child.pid as number, stop };
}
