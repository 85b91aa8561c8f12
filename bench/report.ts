/**
 * The benchmark's figures from a run's result (bench/run.ts): each with its goal, its anchor and
 * an honest PASS/MISS, and the table printed at the end. Every goal figure is a ratio or a
 * difference taken in the same run: against the floor tree (bench/ablations/floor.patch) or
 * against the bare pass-through.
 */

export const GOALS = {
  /** Tollgate ÷ the floor tree (the Worker path and one DO write per call), saturated. */
  throughputOverFloor: 0.85,
  /** workerd CPU per metered call minus the bare pass-through's. */
  cpuAddedMs: 0.25,
  /** At a fixed rate of a quarter of Tollgate's saturated rate, against the pass-through. */
  addedP50Ms: 1.0,
  addedP99Ms: 5,
  hotDebitsPerS: 2_000,
  sseAddedMs: 3,
  exportLagP99S: 2,
  entriesPerD1Call: 50,
};

export const ANCHORS = {
  throughputRatio: "Kong key-auth + rate limiting keeps 0.68× of bare-proxy throughput",
  addedLatency: "Portkey (Hono on workerd, no metering) adds ~2.4 ms p50; LiteLLM ~4.3 ms",
  hot: "Cloudflare advises ~1,000 req/s per Durable Object",
};

export type Figure = { figure: string; measured: string; goal: string; anchor: string; pass: boolean | null; value: number | null };

type Result = Record<string, unknown>;
type Throughput = Record<string, number | null>;
type Latency = {
  rate_rps: number;
  added_p50_ms: number | null;
  added_p99_ms: number | null;
  p50_ms: Record<string, number | null>;
  p99_ms: Record<string, number | null>;
  sse: { added_first_byte_ms: number | null; first_byte_median_ms: Record<string, number | null> };
};
type Hot = { settled_debits_per_s: number | null; succeeded: number; refused_402: number; all_checks_pass: boolean; workerd_cpu_ms_per_call: number | null };
type Tracking = { accounts: number; rss_bytes_per_account: number; sqlite_bytes_per_account: number | null; sqlite_disk_bytes_per_account: number | null };

const f = (n: number | null | undefined, d = 2) => (n == null || !Number.isFinite(n) ? "—" : n.toFixed(d));
const sign = (n: number | null | undefined, d = 2) => (n == null || !Number.isFinite(n) ? "—" : `${n >= 0 ? "+" : ""}${n.toFixed(d)}`);
const judged = (v: number | null | undefined, ok: (v: number) => boolean): boolean | null => (v == null || !Number.isFinite(v) ? null : ok(v));

export function figures(r: Result): Figure[] {
  const tp = r.throughput as Throughput | undefined;
  const lat = r.latency as Latency | undefined;
  const cpu = r.cpu as Record<string, number | null> | undefined;
  const hot = r.hot_account as Hot | undefined;
  const exp = r.export as { lag_p99_s: number | null; entries_per_d1_call: number | null } | undefined;
  const tr = r.tracking as Tracking | undefined;
  const perRound = (tp?.ratio_over_floor_per_round as unknown as number[] | undefined) ?? [];
  const out: Figure[] = [];
  out.push({
    figure: "1. Throughput, Tollgate ÷ floor (Worker path + one DO write per call; saturated)",
    measured: tp
      ? `${f(tp.ratio_tollgate_over_floor, 3)} (${f(tp.rps_tollgate, 0)} vs ${f(tp.rps_floor, 0)} req/s; per round ${perRound.map((x) => f(x, 3)).join(", ")})`
      : "—",
    goal: `≥ ${GOALS.throughputOverFloor}`,
    anchor: "—",
    pass: judged(tp?.ratio_tollgate_over_floor, (v) => v >= GOALS.throughputOverFloor),
    value: tp?.ratio_tollgate_over_floor ?? null,
  });
  out.push({
    figure: "1b. Throughput, Tollgate ÷ bare pass-through (context)",
    measured: tp ? `${f(tp.ratio_tollgate_over_bare, 3)} (bare ${f(tp.rps_bare, 0)} req/s; direct ${f(tp.rps_direct, 0)})` : "—",
    goal: "tracked",
    anchor: "Kong key-auth+rate limiting: 0.68×",
    pass: null,
    value: tp?.ratio_tollgate_over_bare ?? null,
  });
  out.push({
    figure: "2. CPU per metered call − bare pass-through's (workerd, saturated)",
    measured: cpu
      ? `${sign(cpu.ms_added_per_request, 3)} ms (${f(cpu.ms_per_metered_request, 3)} vs ${f(cpu.ms_per_bare_request, 3)}; floor ${f(cpu.ms_per_floor_request, 3)})`
      : "—",
    goal: `≤ ${GOALS.cpuAddedMs} ms`,
    anchor: "—",
    pass: judged(cpu?.ms_added_per_request, (v) => v <= GOALS.cpuAddedMs),
    value: cpu?.ms_added_per_request ?? null,
  });
  out.push({
    figure: `3a. Added latency p50 at ${lat?.rate_rps ?? "?"} req/s (¼ of Tollgate's saturation; − pass-through)`,
    measured: lat ? `${sign(lat.added_p50_ms)} ms (${f(lat.p50_ms.tollgate)} vs ${f(lat.p50_ms.bare)}; floor ${f(lat.p50_ms.floor)})` : "—",
    goal: `≤ +${GOALS.addedP50Ms} ms`,
    anchor: "Portkey ~2.4 ms, LiteLLM ~4.3 ms",
    pass: judged(lat?.added_p50_ms, (v) => v <= GOALS.addedP50Ms),
    value: lat?.added_p50_ms ?? null,
  });
  out.push({
    figure: "3b. Added latency p99 (same runs)",
    measured: lat ? `${sign(lat.added_p99_ms)} ms (${f(lat.p99_ms.tollgate)} vs ${f(lat.p99_ms.bare)}; floor ${f(lat.p99_ms.floor)})` : "—",
    goal: `≤ +${GOALS.addedP99Ms} ms`,
    anchor: "—",
    pass: judged(lat?.added_p99_ms, (v) => v <= GOALS.addedP99Ms),
    value: lat?.added_p99_ms ?? null,
  });
  out.push({
    figure: "4. Hot account, one object: settled debits/s, exact outcome",
    measured: hot
      ? `${f(hot.settled_debits_per_s, 0)}/s; ${hot.succeeded} ok, ${hot.refused_402} × 402, checks ${hot.all_checks_pass ? "pass" : "FAIL"}; CPU ${f(hot.workerd_cpu_ms_per_call, 3)} ms/call`
      : "—",
    goal: `≥ ${GOALS.hotDebitsPerS}/s, exact`,
    anchor: "Cloudflare: ~1,000 req/s per DO",
    pass: hot?.settled_debits_per_s == null ? null : hot.all_checks_pass && hot.settled_debits_per_s >= GOALS.hotDebitsPerS,
    value: hot?.settled_debits_per_s ?? null,
  });
  out.push({
    figure: "5. SSE time to first byte, added (median, one call at a time)",
    measured: lat ? `${sign(lat.sse.added_first_byte_ms)} ms (${f(lat.sse.first_byte_median_ms.tollgate)} vs ${f(lat.sse.first_byte_median_ms.bare)})` : "—",
    goal: `≤ +${GOALS.sseAddedMs} ms`,
    anchor: "—",
    pass: judged(lat?.sse.added_first_byte_ms, (v) => v <= GOALS.sseAddedMs),
    value: lat?.sse.added_first_byte_ms ?? null,
  });
  out.push({
    figure: "6a. Export: settled-to-D1 lag p99 (during 4)",
    measured: exp ? `${f(exp.lag_p99_s, 3)} s` : "—",
    goal: `≤ ${GOALS.exportLagP99S} s`,
    anchor: "—",
    pass: judged(exp?.lag_p99_s, (v) => v <= GOALS.exportLagP99S),
    value: exp?.lag_p99_s ?? null,
  });
  out.push({
    figure: "6b. Export: entries per D1 call (during 4)",
    measured: exp ? f(exp.entries_per_d1_call, 1) : "—",
    goal: `≥ ${GOALS.entriesPerD1Call}`,
    anchor: "—",
    pass: judged(exp?.entries_per_d1_call, (v) => v >= GOALS.entriesPerD1Call),
    value: exp?.entries_per_d1_call ?? null,
  });
  out.push({
    figure: `7a. Memory per account (workerd RSS, ${tr?.accounts ?? "?"} accounts touched)`,
    measured: tr ? `${f(tr.rss_bytes_per_account / 1024, 1)} KiB` : "—",
    goal: "tracked",
    anchor: "—",
    pass: null,
    value: tr?.rss_bytes_per_account ?? null,
  });
  out.push({
    figure: "7b. SQLite bytes per account (logical size; files on disk incl. WAL)",
    measured: tr
      ? `${f((tr.sqlite_bytes_per_account ?? Number.NaN) / 1024, 1)} KiB (disk ${f((tr.sqlite_disk_bytes_per_account ?? Number.NaN) / 1024, 1)} KiB)`
      : "—",
    goal: "tracked",
    anchor: "—",
    pass: null,
    value: tr?.sqlite_bytes_per_account ?? null,
  });
  return out;
}

export function printTable(r: Result, mode: string): void {
  const rows = r.figures as Figure[];
  const cols = ["Figure", "Measured", "Goal", "Anchor", ""];
  const cells = rows.map((x) => [x.figure, x.measured, x.goal, x.anchor, x.pass === null ? "" : x.pass ? "PASS" : "MISS"]);
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" │ ");
  const m = r.machine as { cpu: string; cores: number; pinning: string; storage: string } | undefined;
  const la = r.load_average as { before: number[]; after: number[] };
  console.log(
    `\nTollgate benchmark (${mode}) — ${m ? `${m.cpu}, ${m.cores} CPUs; SQLite on ${m.storage}; pinning: ${m.pinning}` : ""}; load average at start ${la.before.join(" ")}, at end ${la.after.join(" ")}${r.noisy ? " (NOISY: other work was running)" : ""}`,
  );
  console.log(line(cols));
  console.log(widths.map((w) => "─".repeat(w)).join("─┼─"));
  for (const row of cells) console.log(line(row));
}
