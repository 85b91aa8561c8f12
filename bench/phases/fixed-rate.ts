/**
 * Figures 3a and 3b: each arm in turn under the paced open-loop client at a fixed rate (a quarter
 * of Tollgate's saturated rate), p50 and p99 per run; the added latency is paired per round
 * against the pass-through, then the median over rounds.
 */
import { median, paced, quantile } from "../load.ts";
import { type ArmName, round1, type Run } from "./context.ts";

/** The fixed-rate part of `result.latency` (the SSE figure adds its own part). */
export async function fixedRateRounds({ cfg, log, arms, order, target, idle, errors }: Run, rate: number): Promise<Record<string, unknown>> {
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
  return {
    rate_rps: rate,
    duration_s: cfg.rateDurationS,
    p50_ms: Object.fromEntries(arms.map((a) => [a, round1(lm(a, "p50"), 3)])),
    p99_ms: Object.fromEntries(arms.map((a) => [a, round1(lm(a, "p99"), 3)])),
    added_p50_ms: round1(addedP50, 3),
    added_p99_ms: round1(addedP99, 3),
    overloaded_rounds: overloaded,
    rounds: lat,
  };
}
