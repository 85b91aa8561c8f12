/**
 * Where a fixed-rate p99 comes from: one arm under the paced client with every call's send time
 * kept, so a stall of the whole workerd thread shows as a run of calls that all finish together.
 * Prints per run p50, p90, p99, the worst call and how many calls took over 30 ms, and with
 * `--show` the slow calls as `sent-at-ms:latency-ms`.
 *
 *   npx tsx bench/stalls.ts [--arm tollgate|bare] [--rate 253] [--runs 4] [--seconds 6] [--tree DIR] [--show]
 *
 * `--tree DIR` runs another copy of the tree (e.g. one with a step switched off) instead of this one.
 */
import { parseArgs } from "node:util";
import { ARM_PATH, agentCall, benchServices, fundedPayers } from "./api.ts";
import { startGateway, startOriginProcess } from "./gateway.ts";
import { cannon, median, paced, quantile } from "./load.ts";
import { pinApart } from "./proc.ts";

const { values: flags } = parseArgs({
  options: {
    arm: { type: "string", default: "tollgate" },
    rate: { type: "string", default: "253" },
    runs: { type: "string", default: "4" },
    seconds: { type: "string", default: "6" },
    tree: { type: "string" },
    show: { type: "boolean", default: false },
  },
});
const SLOW_MS = 30;
const path = flags.arm === "bare" ? ARM_PATH.bare : ARM_PATH.tollgate;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const origin = await startOriginProcess();
const gw = await startGateway({ originUrl: origin.url, d1Counter: false, log: () => {}, ...(flags.tree ? { root: flags.tree } : {}) });
try {
  pinApart([gw.pid], [process.pid, origin.pid]);
  await benchServices(gw, origin.url, 1_000);
  const payers = await fundedPayers(gw, 32, "stalls");
  const calls = payers.map((p) => agentCall(p, path));
  // Warm like bench/run.ts does before its fixed-rate rounds: saturated first, then a pause.
  await cannon({ url: gw.url, calls, connections: 32, durationS: 4 });
  await sleep(3_000);
  console.log(`${flags.arm} at ${flags.rate} req/s, ${flags.runs} runs of ${flags.seconds} s (the first 0.5 s not kept)`);
  for (let k = 0; k < Number(flags.runs); k++) {
    const run = await paced({ base: gw.url, calls, rate: Number(flags.rate), durationMs: Number(flags.seconds) * 1000, warmupMs: 500, trace: true });
    const trace = run.trace ?? [];
    const slow = trace.filter(([, ms]) => ms > SLOW_MS);
    console.log(
      `run ${k + 1}: ${run.samples.length} calls, p50 ${median(run.samples).toFixed(2)} ms, p90 ${quantile(run.samples, 0.9).toFixed(2)} ms, ` +
        `p99 ${quantile(run.samples, 0.99).toFixed(2)} ms, worst ${Math.max(...run.samples).toFixed(0)} ms, over ${SLOW_MS} ms: ${slow.length}`,
    );
    if (flags.show) console.log(`  ${slow.map(([at, ms]) => `${at.toFixed(0)}:${ms.toFixed(0)}`).join(" ")}`);
    await sleep(2_000);
  }
} finally {
  await gw.stop();
  origin.stop();
}
