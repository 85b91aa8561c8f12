/**
 * Tollgate's benchmark: `npm run bench` (full, a few minutes) or `npm run bench -- --quick`
 * (about a minute, a smoke check). See bench/README.md for what each figure means.
 *
 * One workerd process (Miniflare, the deploy bundle, DO and D1 SQLite in /dev/shm or with --disk on
 * disk), one local origin
 * (bench/origin.ts, its own process), four arms measured in the same run, interleaved in rounds
 * (ABCD, BCDA, …) and reported as medians over rounds:
 *   A  direct      the load generator → the origin
 *   B  bare        → workerd → a bare Hono pass-through route (bench-only) → the origin
 *   C  floor       → a second workerd running this tree with bench/ablations/floor.patch (the
 *                    Worker path and one Durable Object write per call, nothing settled) → the origin
 *   D  tollgate    → workerd → the full metered path (auth, reserve, forward, meter, settle,
 *                    export to D1) → the origin
 * Prints one table (figure, goal, anchor) and writes bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ARM_PATH, agentCall, benchServices, fundedPayers, type Payer } from "./api.ts";
import type { Call } from "./load.ts";
import { ROOT, startGateway, startOriginProcess, type Gateway } from "./gateway.ts";
import { patchedTree, type ScratchTree } from "./floor-tree.ts";
import type { ArmName, Config, Run } from "./phases/context.ts";
import { fixedRateRounds } from "./phases/fixed-rate.ts";
import { hotAccount } from "./phases/hot-account.ts";
import { saturatedRounds } from "./phases/saturated.ts";
import { sseFirstByte } from "./phases/sse.ts";
import { perAccountFootprint } from "./phases/tracking.ts";
import { ANCHORS, figures, GOALS, printTable } from "./report.ts";
import { cpuCount, loadAverage, machine, pinApart, untilIdle } from "./proc.ts";

// ───────────────────────────── configuration ─────────────────────────────

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "no-pin": { type: "boolean", default: false },
    "no-d1-counter": { type: "boolean", default: false },
    disk: { type: "boolean", default: false },
    "no-floor": { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string" },
    out: { type: "string" },
  },
  allowPositionals: false,
});

const QUICK = flags.quick ?? false;
const cfg: Config = {
  mode: QUICK ? "quick" : "full",
  rounds: Number(flags.rounds ?? (QUICK ? 2 : 5)),
  /** Seconds per saturated run (each arm, each round). */
  durationS: Number(flags.duration ?? (QUICK ? 2 : 10)),
  warmupS: QUICK ? 1 : 3,
  connections: Number(flags.connections ?? 32),
  /** Payer accounts the throughput and latency arms spread over (one DO each). */
  accounts: 32,
  /** Seconds per fixed-rate run, and the part of it not kept (connections warming up). */
  rateDurationS: QUICK ? 2 : 10,
  rateWarmupS: QUICK ? 0.3 : 1,
  sseSamples: QUICK ? 30 : 200,
  /** The hot account: calls sent, at this concurrency, against a balance for half of them. */
  hotCalls: QUICK ? 2_000 : 20_000,
  hotConcurrency: 64,
  /**
   * Accounts touched (opened, credited, keyed, one call) for the per-account figures. Not 1,000:
   * every object's SQLite in one workerd process shares one capped heap, and after the hot
   * account's run 1,000 fresh accounts at once hit SQLITE_NOMEM (2026-12-04).
   */
  trackAccounts: QUICK ? 100 : 500,
  /** Per-call price (micro-units): $0.001. */
  price: 1_000,
};

const log = (...parts: unknown[]) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

// ───────────────────────────── the run ─────────────────────────────

const WITH_FLOOR = !flags["no-floor"];
const ARMS: ArmName[] = WITH_FLOOR ? ["direct", "bare", "floor", "tollgate"] : ["direct", "bare", "tollgate"];
/** Round r runs the arms rotated by r: ABCD, BCDA, CDAB, … */
const order = (r: number): ArmName[] => ARMS.map((_, i) => ARMS[(i + r) % ARMS.length] as ArmName);

async function main() {
  const startedAt = new Date();
  const result: Record<string, unknown> = { started_at: startedAt.toISOString(), config: cfg, goals: GOALS, anchors: ANCHORS, errors: [] as string[] };
  const errors = result.errors as string[];
  const loadBefore = loadAverage();
  log(`mode ${cfg.mode}; load average ${loadBefore.join(" ")} on ${cpuCount()} CPUs`);

  const origin = await startOriginProcess();
  let gw: Gateway | null = null;
  let floorGw: Gateway | null = null;
  let floorTree: ScratchTree | null = null;
  const shutdown = async () => {
    await gw?.stop();
    await floorGw?.stop();
    floorTree?.remove();
    origin.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void shutdown().finally(() => process.exit(130));
    });
  }

  try {
    gw = await startGateway({ originUrl: origin.url, d1Counter: !flags["no-d1-counter"], disk: flags.disk, log });
    const g = gw;
    log(`gateway ${g.url} (workerd pid ${g.pid}, miniflare ${g.miniflareVersion}); origin ${origin.url} (pid ${origin.pid})`);
    if (WITH_FLOOR) {
      floorTree = patchedTree("floor.patch");
      floorGw = await startGateway({
        originUrl: origin.url,
        root: floorTree.root,
        d1Counter: !flags["no-d1-counter"],
        disk: flags.disk,
        log: (l) => log(`[floor] ${l}`),
      });
      log(`floor gateway ${floorGw.url} (workerd pid ${floorGw.pid}): this tree with bench/ablations/floor.patch`);
    }
    const fg = floorGw;
    /** Waits until every workerd is idle (a run's export must not spill into the next run). */
    const idle = async (minMs?: number) => {
      await untilIdle(g.pid, minMs);
      if (fg) await untilIdle(fg.pid, minMs);
    };

    let pinning = "none";
    if (!flags["no-pin"]) {
      try {
        pinning = pinApart(fg ? [g.pid, fg.pid] : [g.pid], [process.pid, origin.pid]);
      } catch (err) {
        pinning = `failed: ${String(err)}`;
      }
    }
    log(`pinning: ${pinning}`);
    result.machine = { ...machine(), pinning, storage: flags.disk ? "disk" : "tmpfs", miniflare: g.miniflareVersion };

    // ── setup through the JSON API ──
    await benchServices(g, origin.url, cfg.price);
    const payers = await fundedPayers(g, cfg.accounts, "bench");
    log(`set up 1 provider, 2 services, ${payers.length} funded accounts`);
    let floorPayers: Payer[] = [];
    if (fg) {
      await benchServices(fg, origin.url, cfg.price);
      floorPayers = await fundedPayers(fg, cfg.accounts, "bench");
    }

    /** `pid`: the workerd whose CPU the arm's calls cost (none for direct). */
    const target: Run["target"] = {
      direct: { base: origin.url, calls: payers.map((p) => agentCall(p, "/v1/chat/completions")), pid: null },
      bare: { base: g.url, calls: payers.map((p) => agentCall(p, ARM_PATH.bare)), pid: g.pid },
      floor: { base: fg?.url ?? "", calls: floorPayers.map((p) => agentCall(p, ARM_PATH.tollgate)), pid: fg?.pid ?? null },
      tollgate: { base: g.url, calls: payers.map((p) => agentCall(p, ARM_PATH.tollgate)), pid: g.pid },
    };

    // Every arm must answer 200 before anything is timed.
    for (const arm of ARMS) {
      const call = target[arm].calls[0] as Call;
      const res = await fetch(`${target[arm].base}${call.path}`, { method: call.method, headers: call.headers, body: call.body });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${arm} arm answered ${res.status}: ${text.slice(0, 300)}`);
    }

    const run: Run = { cfg, log, arms: ARMS, order, gateway: g, originUrl: origin.url, payers, target, idle, result, errors };
    const tollgateRps = await saturatedRounds(run);
    const fixedRate = await fixedRateRounds(run, Math.max(10, Math.round(tollgateRps / 4)));
    result.latency = { ...fixedRate, sse: await sseFirstByte(run) };
    await hotAccount(run);
    await perAccountFootprint(run);
  } catch (err) {
    errors.push(String(err instanceof Error ? (err.stack ?? err.message) : err));
    log("FAILED:", err);
  } finally {
    await shutdown();
  }

  result.load_average = { before: loadBefore, after: loadAverage() };
  result.noisy = (loadBefore[0] ?? 0) > 0.5;
  result.finished_at = new Date().toISOString();
  result.figures = figures(result);
  const out = flags.out ?? join(ROOT, "bench", "results", "latest.json");
  mkdirSync(join(out, ".."), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  printTable(result, cfg.mode);
  console.log(`\nwrote ${out}`);
  if (errors.length > 0) {
    console.log(`\n${errors.length} problem(s):\n- ${errors.join("\n- ")}`);
    process.exitCode = 1;
  }
}

await main();
