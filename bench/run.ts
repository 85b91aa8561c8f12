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
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { agentCall, api, benchServices, inParallel, payer, type Payer } from "./api.ts";
import { cannon, median, paced, quantile, timeToFirstByte, type Call, type Saturated } from "./load.ts";
import { ROOT, startGateway, startOriginProcess, type Gateway } from "./gateway.ts";
import { patchedTree, type ScratchTree } from "./floor-tree.ts";
import { ANCHORS, figures, GOALS, printTable } from "./report.ts";
import { sqliteLogicalBytes } from "./sqlite.ts";
import { canPin, cpuCount, cpuMs, loadAverage, machine, pin, rssBytes, untilIdle } from "./proc.ts";

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
const cfg = {
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
  /** Accounts touched (opened, credited, keyed, one call) for the per-account figures. */
  trackAccounts: QUICK ? 100 : 1_000,
  /** Per-call price (micro-units): $0.001. */
  price: 1_000,
};

const log = (...parts: unknown[]) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (n: number, d = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : null);

// ───────────────────────────── helpers ─────────────────────────────

type D1Stats = {
  calls: number;
  batches: number;
  single: number;
  exportBatches: number;
  transfersExported: number;
  exportBatchSizes: Record<string, number>;
  auditOnlyBatches: number;
  auditStatements: number;
};

async function d1Stats(gw: Gateway): Promise<D1Stats | null> {
  if (!gw.d1Counter) return null;
  const res = await fetch(`${gw.url}/__bench/d1-stats`);
  return (await res.json()) as D1Stats | null;
}

async function d1Rows<T>(gw: Gateway, sql: string, ...params: unknown[]): Promise<T[]> {
  const stmt = gw.d1.prepare(sql);
  return (await (params.length ? stmt.bind(...params) : stmt).all<T>()).results;
}

// ───────────────────────────── the run ─────────────────────────────

type ArmName = "direct" | "bare" | "floor" | "tollgate";
const WITH_FLOOR = !flags["no-floor"];
const ARMS: ArmName[] = WITH_FLOOR ? ["direct", "bare", "floor", "tollgate"] : ["direct", "bare", "tollgate"];
/** Round r runs the arms rotated by r: ABCD, BCDA, CDAB, … */
const order = (r: number): ArmName[] => ARMS.map((_, i) => ARMS[(i + r) % ARMS.length] as ArmName);
/** The SSE figure compares these three only. */
type SseArm = "direct" | "bare" | "tollgate";
const SSE_ARMS: SseArm[] = ["direct", "bare", "tollgate"];
const orderSse = (r: number): SseArm[] => SSE_ARMS.map((_, i) => SSE_ARMS[(i + r) % SSE_ARMS.length] as SseArm);

const SSE_BODY = JSON.stringify({
  model: "bench-llm-1",
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: 64,
  messages: [{ role: "user", content: "Say hello to the benchmark." }],
});

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

    // Pin workerd to one CPU and the load generator + origin to the other(s).
    let pinning = "none";
    if (!flags["no-pin"] && canPin() && cpuCount() >= 2) {
      const last = cpuCount() - 1;
      const rest = last === 1 ? "0" : `0-${last - 1}`;
      try {
        pin(g.pid, String(last));
        if (fg) pin(fg.pid, String(last));
        pin(process.pid, rest);
        pin(origin.pid, rest);
        pinning = `workerd → CPU ${last}; load generator + origin → CPU ${rest}`;
      } catch (err) {
        pinning = `failed: ${String(err)}`;
      }
    }
    log(`pinning: ${pinning}`);
    result.machine = { ...machine(), pinning, storage: flags.disk ? "disk" : "tmpfs", miniflare: g.miniflareVersion };

    // ── setup through the JSON API ──
    await benchServices(g, origin.url, cfg.price);
    const payers = await inParallel(
      Array.from({ length: cfg.accounts }, (_, i) => i),
      8,
      (i) => payer(g, `bench-${i}`, 1_000_000_000_000),
    );
    log(`set up 1 provider, 2 services, ${payers.length} funded accounts`);
    let floorPayers: Payer[] = [];
    if (fg) {
      await benchServices(fg, origin.url, cfg.price);
      floorPayers = await inParallel(
        Array.from({ length: cfg.accounts }, (_, i) => i),
        8,
        (i) => payer(fg, `bench-${i}`, 1_000_000_000_000),
      );
    }

    /** `pid`: the workerd whose CPU the arm's calls cost (none for direct). */
    const target: Record<ArmName, { base: string; calls: Call[]; pid: number | null }> = {
      direct: { base: origin.url, calls: payers.map((p) => agentCall(p, "/v1/chat/completions")), pid: null },
      bare: { base: g.url, calls: payers.map((p) => agentCall(p, "/__bench/pass/v1/chat/completions")), pid: g.pid },
      floor: { base: fg?.url ?? "", calls: floorPayers.map((p) => agentCall(p, "/s/bench-json/v1/chat/completions")), pid: fg?.pid ?? null },
      tollgate: { base: g.url, calls: payers.map((p) => agentCall(p, "/s/bench-json/v1/chat/completions")), pid: g.pid },
    };

    // Every arm must answer 200 before anything is timed.
    for (const arm of ARMS) {
      const call = target[arm].calls[0] as Call;
      const res = await fetch(`${target[arm].base}${call.path}`, { method: call.method, headers: call.headers, body: call.body });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${arm} arm answered ${res.status}: ${text.slice(0, 300)}`);
    }

    // ── 1. saturated throughput (and 3. CPU per request) ──
    log(`warm-up: ${cfg.warmupS} s per arm`);
    for (const arm of ARMS) await cannon({ url: target[arm].base, calls: target[arm].calls, connections: cfg.connections, durationS: cfg.warmupS });
    await idle();

    const sat: Record<ArmName, (Saturated & { cpuMsPerRequest: number | null })[]> = { direct: [], bare: [], floor: [], tollgate: [] };
    for (let r = 0; r < cfg.rounds; r++) {
      for (const arm of order(r)) {
        const pid = target[arm].pid ?? g.pid;
        const cpu0 = cpuMs(pid);
        const run = await cannon({ url: target[arm].base, calls: target[arm].calls, connections: cfg.connections, durationS: cfg.durationS });
        // CPU is counted until workerd is idle again, so the export that follows a metered run counts.
        await idle();
        const cpu = cpuMs(pid) - cpu0;
        sat[arm].push({ ...run, cpuMsPerRequest: arm === "direct" || run.ok === 0 ? null : cpu / (run.ok + run.non2xx) });
        log(
          `round ${r + 1}/${cfg.rounds} ${arm.padEnd(8)} ${run.rps.toFixed(0).padStart(6)} req/s  ` +
            `non-2xx ${run.non2xx}  errors ${run.errors}` +
            (arm === "direct" ? "" : `  workerd CPU ${(cpu / Math.max(1, run.ok + run.non2xx)).toFixed(3)} ms/req`),
        );
        if (run.non2xx > 0 || run.errors > 0)
          errors.push(`saturated ${arm} round ${r + 1}: ${run.non2xx} non-2xx, ${run.errors} errors ${JSON.stringify(run.statusCodes)}`);
      }
    }
    const rps = (arm: ArmName) => median(sat[arm].map((s) => s.rps));
    const cpuPer = (arm: ArmName) => median(sat[arm].map((s) => s.cpuMsPerRequest ?? Number.NaN).filter(Number.isFinite));
    const ratios = sat.tollgate.map((s, i) => s.rps / (sat.bare[i]?.rps ?? Number.NaN));
    const floorRatios = sat.tollgate.map((s, i) => s.rps / (sat.floor[i]?.rps ?? Number.NaN));
    const throughput = {
      connections: cfg.connections,
      duration_s: cfg.durationS,
      rps_direct: round1(rps("direct"), 0),
      rps_bare: round1(rps("bare"), 0),
      rps_floor: WITH_FLOOR ? round1(rps("floor"), 0) : null,
      rps_tollgate: round1(rps("tollgate"), 0),
      // Paired the same way against the floor tree's run of the same round.
      ratio_tollgate_over_floor: WITH_FLOOR ? round1(median(floorRatios), 3) : null,
      ratio_over_floor_per_round: WITH_FLOOR ? floorRatios.map((x) => round1(x, 3)) : [],
      // Paired: each round's Tollgate run against the same round's pass-through, then the median.
      ratio_tollgate_over_bare: round1(median(ratios), 3),
      ratio_of_medians: round1(rps("tollgate") / rps("bare"), 3),
      ratio_per_round: ratios.map((x) => round1(x, 3)),
      rounds: sat,
    };
    result.throughput = throughput;
    result.cpu = {
      ms_per_metered_request: round1(cpuPer("tollgate"), 3),
      ms_per_bare_request: round1(cpuPer("bare"), 3),
      ms_per_floor_request: WITH_FLOOR ? round1(cpuPer("floor"), 3) : null,
      ms_added_per_request: round1(cpuPer("tollgate") - cpuPer("bare"), 3),
      note: "workerd process user+system CPU (/proc/<pid>/stat) from the start of a saturated run until workerd is idle again, ÷ responses",
    };

    // ── 2. added latency at a fixed rate: a quarter of Tollgate's saturation ──
    const rate = Math.max(10, Math.round(rps("tollgate") / 4));
    log(`fixed rate: ${rate} req/s for ${cfg.rateDurationS} s per arm per round`);
    const lat: Record<ArmName, { p50: number; p99: number; achieved: number; n: number }[]> = { direct: [], bare: [], floor: [], tollgate: [] };
    for (let r = 0; r < cfg.rounds; r++) {
      for (const arm of order(r)) {
        const run = await paced({
          base: target[arm].base,
          calls: target[arm].calls,
          rate,
          durationMs: cfg.rateDurationS * 1000,
          warmupMs: cfg.rateWarmupS * 1000,
        });
        await idle(300);
        const p50 = median(run.samples);
        const p99 = quantile(run.samples, 0.99);
        lat[arm].push({ p50, p99, achieved: run.achievedRate, n: run.samples.length });
        log(`round ${r + 1}/${cfg.rounds} ${arm.padEnd(8)} p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  (${run.achievedRate.toFixed(0)} req/s sent)`);
        const bad = run.sent - (run.statusCodes["200"] ?? 0);
        if (bad > 0) errors.push(`fixed-rate ${arm} round ${r + 1}: ${bad} of ${run.sent} not 200 ${JSON.stringify(run.statusCodes)}, ${run.errors} errors`);
      }
    }
    const lm = (arm: ArmName, k: "p50" | "p99") => median(lat[arm].map((x) => x[k]));
    // A fixed rate the machine cannot sustain at that moment (other work, a slow round) shows as
    // queueing, not as added latency: flag it rather than let it pass for the gateway's cost.
    const overloaded = lat.tollgate.filter((t) => t.p50 > 50).length;
    if (overloaded > 0)
      errors.push(
        `fixed-rate: ${overloaded} of ${cfg.rounds} Tollgate rounds had p50 > 50 ms (queueing: the machine could not sustain ${rate} req/s then); the latency figures are not meaningful`,
      );
    // Added latency per round (paired: same round, same conditions), then the median over rounds.
    const addedP50 = median(lat.tollgate.map((t, i) => t.p50 - (lat.bare[i]?.p50 ?? Number.NaN)));
    const addedP99 = median(lat.tollgate.map((t, i) => t.p99 - (lat.bare[i]?.p99 ?? Number.NaN)));

    // SSE: time to the first body byte, one call at a time, arms interleaved per sample.
    const sseCall = (p: Payer, path: string): Call => agentCall(p, path, SSE_BODY);
    const sseTarget: Record<SseArm, { base: string; call: Call; agent: Agent; ttfb: number[]; headers: number[] }> = {
      direct: {
        base: origin.url,
        call: sseCall(payers[0] as Payer, "/v1/chat/completions"),
        agent: new Agent({ keepAlive: true, maxSockets: 1 }),
        ttfb: [],
        headers: [],
      },
      bare: {
        base: g.url,
        call: sseCall(payers[0] as Payer, "/__bench/pass/v1/chat/completions"),
        agent: new Agent({ keepAlive: true, maxSockets: 1 }),
        ttfb: [],
        headers: [],
      },
      tollgate: {
        base: g.url,
        call: sseCall(payers[0] as Payer, "/s/bench-llm/v1/chat/completions"),
        agent: new Agent({ keepAlive: true, maxSockets: 1 }),
        ttfb: [],
        headers: [],
      },
    };
    const sseWarm = 5;
    let sseBad = 0;
    for (let i = 0; i < cfg.sseSamples + sseWarm; i++) {
      for (const arm of orderSse(i)) {
        const t = sseTarget[arm];
        const m = await timeToFirstByte(t.agent, t.base, t.call);
        if (m.status !== 200 || m.firstByteMs < 0) {
          sseBad++;
          continue;
        }
        if (i >= sseWarm) {
          t.ttfb.push(m.firstByteMs);
          t.headers.push(m.headersMs);
        }
      }
    }
    for (const arm of SSE_ARMS) sseTarget[arm].agent.destroy();
    if (sseBad > 0) errors.push(`SSE: ${sseBad} calls failed`);
    const sseMedian = (arm: SseArm) => median(sseTarget[arm].ttfb);
    result.latency = {
      rate_rps: rate,
      duration_s: cfg.rateDurationS,
      p50_ms: Object.fromEntries(ARMS.map((a) => [a, round1(lm(a, "p50"), 3)])),
      p99_ms: Object.fromEntries(ARMS.map((a) => [a, round1(lm(a, "p99"), 3)])),
      added_p50_ms: round1(addedP50, 3),
      added_p99_ms: round1(addedP99, 3),
      overloaded_rounds: overloaded,
      rounds: lat,
      sse: {
        samples: cfg.sseSamples,
        first_byte_median_ms: { direct: round1(sseMedian("direct"), 3), bare: round1(sseMedian("bare"), 3), tollgate: round1(sseMedian("tollgate"), 3) },
        first_byte_p90_ms: {
          direct: round1(quantile(sseTarget.direct.ttfb, 0.9), 3),
          bare: round1(quantile(sseTarget.bare.ttfb, 0.9), 3),
          tollgate: round1(quantile(sseTarget.tollgate.ttfb, 0.9), 3),
        },
        added_first_byte_ms: round1(sseMedian("tollgate") - sseMedian("bare"), 3),
      },
    };
    log(
      `SSE first byte (median): direct ${sseMedian("direct").toFixed(2)} ms, bare ${sseMedian("bare").toFixed(2)} ms, tollgate ${sseMedian("tollgate").toFixed(2)} ms`,
    );

    // ── 4. one hot account, and 5. the export to D1 while it runs ──
    await untilIdle(g.pid);
    const half = Math.floor(cfg.hotCalls / 2);
    const hot = await payer(g, "bench-hot", half * cfg.price);
    // Let the credit's own export land first, so the D1 figures below are the hot run's alone.
    for (let i = 0; i < 100; i++) {
      const [row] = await d1Rows<{ n: number }>(g, "SELECT COUNT(*) AS n FROM transfers WHERE account_id = ?", hot.id);
      if ((row?.n ?? 0) >= 1) break;
      await sleep(100);
    }
    await untilIdle(g.pid, 300);
    const stats0 = await d1Stats(g);
    const cpuHot0 = cpuMs(g.pid);
    log(`hot account: ${cfg.hotCalls} calls at concurrency ${cfg.hotConcurrency} against a balance for ${half}`);
    const hotRun = await cannon({
      url: g.url,
      calls: [agentCall(hot, "/s/bench-json/v1/chat/completions")],
      connections: cfg.hotConcurrency,
      amount: cfg.hotCalls,
    });
    const balance = await api<{ posted: number; pending: number; available: number }>(g, "GET", `/v1/accounts/${hot.id}/balance`);
    // Wait for the journal to reach D1 (credit + one capture per success).
    const expectD1 = (hotRun.statusCodes["200"] ?? 0) + 1;
    const exportStart = Date.now();
    let inD1 = 0;
    while (Date.now() - exportStart < 60_000) {
      const [row] = await d1Rows<{ n: number }>(g, "SELECT COUNT(*) AS n FROM transfers WHERE account_id = ?", hot.id);
      inD1 = row?.n ?? 0;
      if (inD1 >= expectD1) break;
      await sleep(100);
    }
    await untilIdle(g.pid, 300);
    const cpuHot = cpuMs(g.pid) - cpuHot0;
    const stats1 = await d1Stats(g);
    const journal = await api<{ data: { seq: number }[] }>(g, "GET", `/v1/accounts/${hot.id}/transfers?limit=1`);
    const [captures] = await d1Rows<{ n: number; sum: number; first: number; last: number }>(
      g,
      "SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS sum, MIN(created_at) AS first, MAX(created_at) AS last FROM transfers WHERE account_id = ? AND kind = 'capture'",
      hot.id,
    );
    const [legsAll] = await d1Rows<{ sum: number; n: number }>(
      g,
      "SELECT COALESCE(SUM(amount), 0) AS sum, COUNT(*) AS n FROM ledger_entries WHERE account_id = ?",
      hot.id,
    );
    const [legsPayer] = await d1Rows<{ sum: number }>(g, "SELECT COALESCE(SUM(amount), 0) AS sum FROM ledger_entries WHERE ledger_account = ?", hot.id);
    const lags = (
      await d1Rows<{ lag: number }>(g, "SELECT exported_at - created_at AS lag FROM transfers WHERE account_id = ? AND kind = 'capture'", hot.id)
    ).map((r) => Number(r.lag));
    const succeeded = hotRun.statusCodes["200"] ?? 0;
    const refused = hotRun.statusCodes["402"] ?? 0;
    const other = Object.entries(hotRun.statusCodes).filter(([code]) => code !== "200" && code !== "402");
    const spanS = captures ? (Number(captures.last) - Number(captures.first)) / 1000 : Number.NaN;
    const debitsPerS = captures && spanS > 0 ? (Number(captures.n) - 1) / spanS : Number.NaN;
    const checks = {
      exactly_half_succeeded: succeeded === half,
      exactly_half_refused_402: refused === cfg.hotCalls - half,
      no_other_status: other.length === 0 && hotRun.errors === 0,
      balance_zero: balance.posted === 0 && balance.pending === 0 && balance.available === 0,
      journal_complete: journal.data[0]?.seq === half + 1,
      d1_captures_sum_to_credit: Number(captures?.n) === half && Number(captures?.sum) === half * cfg.price,
      d1_legs_sum_to_zero: Number(legsAll?.sum) === 0,
      d1_payer_legs_zero: Number(legsPayer?.sum) === 0,
    };
    const exportBatches = stats0 && stats1 ? stats1.exportBatches - stats0.exportBatches : null;
    const exported = stats0 && stats1 ? stats1.transfersExported - stats0.transfersExported : null;
    const batchSizes: Record<string, number> = {};
    if (stats0 && stats1) {
      for (const [size, n] of Object.entries(stats1.exportBatchSizes)) {
        const d = n - (stats0.exportBatchSizes[size] ?? 0);
        if (d > 0) batchSizes[size] = d;
      }
    }
    result.hot_account = {
      calls: cfg.hotCalls,
      concurrency: cfg.hotConcurrency,
      balance_for: half,
      succeeded,
      refused_402: refused,
      other_statuses: Object.fromEntries(other),
      errors: hotRun.errors,
      balance,
      checks,
      all_checks_pass: Object.values(checks).every(Boolean),
      settled_debits_per_s: round1(debitsPerS, 0),
      settle_span_s: round1(spanS, 3),
      wall_s: round1(hotRun.durationS, 3),
      workerd_cpu_ms_per_call: round1(cpuHot / cfg.hotCalls, 3),
      latency_p50_ms: hotRun.latencyP50,
      latency_p99_ms: hotRun.latencyP99,
    };
    result.export = {
      lag_p50_s: round1(quantile(lags, 0.5) / 1000, 3),
      lag_p99_s: round1(quantile(lags, 0.99) / 1000, 3),
      lag_max_s: round1(Math.max(...lags) / 1000, 3),
      transfers_exported: exported,
      export_d1_calls: exportBatches,
      entries_per_d1_call: exportBatches ? round1((exported ?? 0) / exportBatches, 1) : null,
      batch_sizes: batchSizes,
      d1_calls_total_during_run: stats0 && stats1 ? stats1.calls - stats0.calls : null,
      d1_batches_audit_only: stats0 && stats1 ? (stats1.auditOnlyBatches ?? 0) - (stats0.auditOnlyBatches ?? 0) : null,
      d1_single_statements: stats0 && stats1 ? stats1.single - stats0.single : null,
      d1_rows: { transfers: inD1, ledger_entries: legsAll?.n ?? null },
      note: "lag = D1 transfers.exported_at − created_at (the DO's capture time); entries per D1 call = journal transfers per export db.batch() that carries transfers, counted by the bench's D1 wrapper; audit-only batches (e.g. the trail of 402 refusals) are counted apart",
    };
    log(
      `hot: ${succeeded} ok, ${refused} × 402, balance ${JSON.stringify(balance)}, ${debitsPerS.toFixed(0)} settled debits/s; ` +
        `export lag p99 ${(quantile(lags, 0.99) / 1000).toFixed(3)} s, ${exportBatches ? ((exported ?? 0) / exportBatches).toFixed(1) : "?"} entries per D1 call`,
    );
    if (!Object.values(checks).every(Boolean)) errors.push(`hot account checks failed: ${JSON.stringify(checks)}`);

    // ── 6. tracking: memory and SQLite bytes per account ──
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
        const call = agentCall(p, "/s/bench-json/v1/chat/completions");
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
    log(`tracking: RSS ${(rss0 / 2 ** 20).toFixed(1)} → ${(rss1 / 2 ** 20).toFixed(1)} MiB; ${fresh.length} new DO SQLite files`);
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

await main();
