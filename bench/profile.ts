/**
 * Where a metered call's CPU goes: runs saturated load against one arm (default: the full
 * Tollgate path, per-call price) with V8's sampling profiler on in workerd, and prints
 *   - workerd process CPU per request, split into the Worker's isolate (Worker + Durable Objects),
 *     the local D1 simulator's isolate, and the rest (HTTP, I/O, SQLite outside JS, other isolates);
 *   - the top functions by self time, named by source module (from the bundle's module markers);
 *   - inclusive time of the hot path's main steps.
 *
 *   npx tsx bench/profile.ts [--arm tollgate|bare] [--duration 10] [--connections 32] [--top 30]
 *
 * Writes the raw profiles to bench/results/profile-*.cpuprofile (open them in Chrome DevTools).
 * Profiling slows the isolate down (~10–30 %); use the shares, not the absolute figures.
 */
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ARM_PATH, agentCall, benchServices, fundedPayers } from "./api.ts";
import { ROOT, startGateway, startOriginProcess } from "./gateway.ts";
import { cannon, type Call } from "./load.ts";
import { cpuMs, pinApart } from "./proc.ts";

const { values: flags } = parseArgs({
  options: {
    arm: { type: "string", default: "tollgate" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "32" },
    accounts: { type: "string", default: "32" },
    top: { type: "string", default: "30" },
    interval: { type: "string", default: "200" },
    "no-pin": { type: "boolean", default: false },
    /** Also profile the local D1 simulator's isolate (its samples overlap the Worker's: same thread). */
    d1: { type: "boolean", default: false },
  },
});

type WsLike = {
  on(event: "message", fn: (data: Buffer) => void): void;
  on(event: "open" | "close", fn: () => void): void;
  on(event: "error", fn: (err: Error) => void): void;
  send(data: string): void;
  close(): void;
};
const WebSocket = createRequire(import.meta.url)("ws") as new (url: string, opts?: Record<string, unknown>) => WsLike;

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/** A minimal Chrome DevTools Protocol session. */
async function cdp(url: string) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => resolve());
    ws.on("error", reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p?.reject(new Error(msg.error.message));
    else p?.resolve(msg.result);
  });
  return {
    send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise<T>((resolve, reject) => pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    },
    close: () => ws.close(),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Module of each bundle line, from esbuild's `// path/to/module.ts` markers. */
function moduleMap(bundlePath: string): (line: number) => string {
  const lines = readFileSync(bundlePath, "utf8").split("\n");
  const starts: { line: number; module: string }[] = [];
  lines.forEach((text, i) => {
    const m = /^\/\/ ((?:worker|durable-objects|node_modules|sdk)\/[^\s]+)$/.exec(text);
    if (m) starts.push({ line: i, module: (m[1] as string).replace(/^node_modules\/(\.pnpm\/)?/, "npm:").replace(/^(npm:(?:@[^/]+\/)?[^/]+).*/, "$1") });
  });
  return (line: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = starts[mid] as { line: number; module: string };
      if (s.line <= line) {
        found = s.module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

type Analysis = { busyMs: number; idleMs: number; self: Map<string, number>; inclusive: Map<string, number> };

function analyse(profile: Profile, moduleOf: ((line: number) => string) | null): Analysis {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const label = (n: ProfileNode): string => {
    const f = n.callFrame;
    const name = f.functionName || "(anonymous)";
    if (!f.url) return name;
    const where = moduleOf && /index\.js$/.test(f.url) ? moduleOf(f.lineNumber) : f.url.replace(/^.*\//, "");
    return `${where} ${name}`;
  };
  const labels = new Map<number, string>();
  for (const n of profile.nodes) labels.set(n.id, label(n));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busyMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    // The delta after a sample is the time it stands for.
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const name = labels.get(id) ?? "?";
    if (name === "(idle)") {
      idleMs += ms;
      return;
    }
    busyMs += ms;
    self.set(name, (self.get(name) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = labels.get(cur) ?? "?";
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + ms);
    }
  });
  return { busyMs, idleMs, self, inclusive };
}

async function main() {
  const arm = flags.arm === "bare" ? "bare" : "tollgate";
  const durationS = Number(flags.duration);
  const connections = Number(flags.connections);
  const top = Number(flags.top);
  const origin = await startOriginProcess();
  const inspectorPort = await freePort();
  const gw = await startGateway({ originUrl: origin.url, inspectorPort, log: (l) => console.error(l) });
  try {
    if (!flags["no-pin"]) pinApart([gw.pid], [process.pid, origin.pid]);
    const moduleOf = moduleMap(gw.bundlePath);
    await benchServices(gw, origin.url, 1_000);
    const payers = await fundedPayers(gw, Number(flags.accounts), "profile");
    const path = ARM_PATH[arm];
    const calls: Call[] = payers.map((p) => agentCall(p, path));
    console.error(`warm-up 2 s (${arm})`);
    await cannon({ url: gw.url, calls, connections, durationS: 2 });
    await new Promise((r) => setTimeout(r, 1500));

    const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { id: string; webSocketDebuggerUrl: string }[];
    const worker = list.find((t) => t.id === "core:user:tollgate");
    const d1 = flags.d1 ? list.find((t) => t.id.startsWith("d1:db:")) : undefined;
    if (!worker) throw new Error("no inspector target for the Worker");
    const sessions = await Promise.all(
      [worker, d1].filter((t): t is { id: string; webSocketDebuggerUrl: string } => !!t).map(async (t) => ({ id: t.id, s: await cdp(t.webSocketDebuggerUrl) })),
    );
    for (const { s } of sessions) {
      await s.send("Profiler.enable");
      await s.send("Profiler.setSamplingInterval", { interval: Number(flags.interval) });
    }
    for (const { s } of sessions) await s.send("Profiler.start");
    const cpu0 = cpuMs(gw.pid);
    console.error(`profiling ${durationS} s of saturated load on the ${arm} arm…`);
    const run = await cannon({ url: gw.url, calls, connections, durationS });
    // Include the export that follows the run.
    await new Promise((r) => setTimeout(r, 1500));
    const cpu = cpuMs(gw.pid) - cpu0;
    const profiles = new Map<string, Profile>();
    for (const { id, s } of sessions) profiles.set(id, (await s.send<{ profile: Profile }>("Profiler.stop")).profile);
    for (const { s } of sessions) s.close();

    const requests = run.ok + run.non2xx;
    const outDir = join(ROOT, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    for (const [id, p] of profiles) writeFileSync(join(outDir, `profile-${arm}-${id.replace(/[^a-z0-9]+/gi, "_")}.cpuprofile`), JSON.stringify(p));

    const w = analyse(profiles.get(worker.id) as Profile, moduleOf);
    const dProfile = d1 ? profiles.get(d1.id) : undefined;
    const d = dProfile ? analyse(dProfile, null) : null;
    // The sampler counts wall time while the isolate's thread is busy, which includes time the
    // thread was preempted on a loaded machine; so shares come from the profile and absolute
    // figures are those shares of the process's measured CPU.
    const cpuPerReq = cpu / requests;
    const per = (ms: number) => `${((ms / w.busyMs) * cpuPerReq * 1000).toFixed(0).padStart(5)} µs/req`;
    console.log(`\n${arm}: ${requests} requests, ${run.rps.toFixed(0)} req/s (profiler on), non-2xx ${run.non2xx}`);
    console.log(
      `workerd process CPU: ${(cpuPerReq * 1000).toFixed(0)} µs/req (user + system, /proc); profile: ${w.busyMs.toFixed(0)} ms busy, ${w.idleMs.toFixed(0)} ms idle`,
    );
    console.log("µs/req below = the function's share of the Worker isolate's busy samples × the process CPU per request.");
    console.log("'(program)' is native work outside JS: other isolates (the local D1 simulator), HTTP, I/O.");
    if (d) console.log(`D1 simulator isolate: ${d.busyMs.toFixed(0)} ms busy (its samples overlap the Worker's: one thread)`);
    const table = (title: string, m: Map<string, number>, n: number) => {
      console.log(`\n${title}`);
      for (const [name, ms] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)) {
        console.log(`  ${per(ms)}  ${((ms / w.busyMs) * 100).toFixed(1).padStart(5)}%  ${name}`);
      }
    };
    table(`Worker isolate, top ${top} by self time:`, w.self, top);
    const byModule = new Map<string, number>();
    for (const [name, ms] of w.self) {
      const mod = name.includes(" ") ? (name.split(" ")[0] as string) : "(native / builtins)";
      byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
    }
    table("Worker isolate, self time by module:", byModule, 20);
    // Inclusive time of the project's own functions (and drizzle's entry points): where the steps go.
    const inclusive = new Map<string, number>();
    for (const [name, ms] of w.inclusive) {
      if (/^(worker|durable-objects)\//.test(name) || /^npm:drizzle-orm (drizzle|batch|extractTablesRelationalConfig)$/.test(name)) inclusive.set(name, ms);
    }
    table(`Worker isolate, top ${top} first-party functions by inclusive time:`, inclusive, top);
    if (d) {
      console.log("\nD1 simulator isolate, top 10 by self time:");
      for (const [name, ms] of [...d.self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
    }
    console.log(`\nraw profiles in ${outDir}/profile-${arm}-*.cpuprofile`);
  } finally {
    await gw.stop();
    origin.stop();
  }
}

await main();
