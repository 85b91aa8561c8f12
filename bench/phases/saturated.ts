/**
 * Figures 1, 1b and 2: every arm saturated (autocannon, closed loop) in interleaved rounds; the
 * throughput ratios paired per round, and workerd's CPU per response counted until it is idle
 * again (so the export that follows a metered run counts in that run).
 */
import { cannon, median, type Saturated } from "../load.ts";
import { cpuMs } from "../proc.ts";
import { type ArmName, round1, type Run } from "./context.ts";

/** Runs the saturated rounds, records `throughput` and `cpu`, and answers Tollgate's median rate. */
export async function saturatedRounds({ cfg, log, arms, order, gateway, target, idle, result, errors }: Run): Promise<number> {
  const withFloor = arms.includes("floor");
  log(`warm-up: ${cfg.warmupS} s per arm`);
  for (const arm of arms) await cannon({ url: target[arm].base, calls: target[arm].calls, connections: cfg.connections, durationS: cfg.warmupS });
  await idle();

  const sat: Record<ArmName, (Saturated & { cpuMsPerRequest: number | null })[]> = { direct: [], bare: [], floor: [], tollgate: [] };
  for (let r = 0; r < cfg.rounds; r++) {
    for (const arm of order(r)) {
      const pid = target[arm].pid ?? gateway.pid;
      const cpu0 = cpuMs(pid);
      const run = await cannon({ url: target[arm].base, calls: target[arm].calls, connections: cfg.connections, durationS: cfg.durationS });
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
  result.throughput = {
    connections: cfg.connections,
    duration_s: cfg.durationS,
    rps_direct: round1(rps("direct"), 0),
    rps_bare: round1(rps("bare"), 0),
    rps_floor: withFloor ? round1(rps("floor"), 0) : null,
    rps_tollgate: round1(rps("tollgate"), 0),
    // Paired the same way against the floor tree's run of the same round.
    ratio_tollgate_over_floor: withFloor ? round1(median(floorRatios), 3) : null,
    ratio_over_floor_per_round: withFloor ? floorRatios.map((x) => round1(x, 3)) : [],
    // Paired: each round's Tollgate run against the same round's pass-through, then the median.
    ratio_tollgate_over_bare: round1(median(ratios), 3),
    ratio_of_medians: round1(rps("tollgate") / rps("bare"), 3),
    ratio_per_round: ratios.map((x) => round1(x, 3)),
    rounds: sat,
  };
  result.cpu = {
    ms_per_metered_request: round1(cpuPer("tollgate"), 3),
    ms_per_bare_request: round1(cpuPer("bare"), 3),
    ms_per_floor_request: withFloor ? round1(cpuPer("floor"), 3) : null,
    ms_added_per_request: round1(cpuPer("tollgate") - cpuPer("bare"), 3),
    note: "workerd process user+system CPU (/proc/<pid>/stat) from the start of a saturated run until workerd is idle again, ÷ responses",
  };
  return rps("tollgate");
}
