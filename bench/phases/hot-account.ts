/**
 * Figures 4, 6a and 6b: one account funded for half of `hotCalls` calls, all of them sent at
 * `hotConcurrency`; the outcome must be exact (half 200, half 402, balance 0, journal and D1
 * ledger complete and balanced), and the settled debits per second, the export lag and the
 * entries per D1 call are read from D1 and the bench's D1 counter.
 */
import { ARM_PATH, agentCall, api, payer } from "../api.ts";
import type { Gateway } from "../gateway.ts";
import { cannon, quantile } from "../load.ts";
import { cpuMs, untilIdle } from "../proc.ts";
import { d1Rows, round1, type Run, sleep } from "./context.ts";

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

/** Records `hot_account` and `export`. */
export async function hotAccount({ cfg, log, gateway: g, result, errors }: Run): Promise<void> {
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
    calls: [agentCall(hot, ARM_PATH.tollgate)],
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
}
