/**
 * Before and after, in one run: CPU per request and saturated throughput of the Tollgate arm for
 * two trees of this repository, each in its own workerd (same origin, same load generator, same
 * pinning), in interleaved rounds (AB, BA, AB…) so drift on a shared machine hits both alike.
 * Prints per-round figures and the medians, the ratio after ÷ before, and the CPU ratio paired
 * within each round with how many rounds it was lower in.
 *
 *   npx tsx bench/compare.ts --base HEAD~1 [--head <ref>] [--rounds 6] [--duration 4] [--arm tollgate|bare] [--rate N]
 *
 * With `--rate N` each run is the paced open-loop client at N requests/s (figure 3's shape: a call
 * costs more CPU at a moderate fixed rate than saturated) and p50/p99 are printed with the CPU.
 * With `--serial N` it is N calls one at a time, the two sides alternating call by call, and the
 * median and p90 of each side's whole-call time are printed: a latency comparison that a busy
 * machine disturbs least (no queue builds up, and both sides share each moment's noise).
 *
 * `--base` (and `--head`, default: the working tree) are checked out with `git worktree` into a
 * temp dir that shares this checkout's node_modules. Nothing here asserts a time.
 */
import { execFileSync } from "node:child_process";
import { Agent } from "node:http";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ARM_PATH, agentCall, benchServices, fundedPayers } from "./api.ts";
import { ROOT, startGateway, startOriginProcess, type Gateway } from "./gateway.ts";
import { cannon, median, paced, quantile, timeToFirstByte, type Call } from "./load.ts";
import { cpuMs, pinApart, untilIdle } from "./proc.ts";

const { values: flags } = parseArgs({
  options: {
    base: { type: "string" },
    head: { type: "string" },
    rounds: { type: "string", default: "6" },
    duration: { type: "string", default: "4" },
    connections: { type: "string", default: "32" },
    accounts: { type: "string", default: "32" },
    arm: { type: "string", default: "tollgate" },
    rate: { type: "string" },
    serial: { type: "string" },
  },
});

/** A detached checkout of `ref` sharing this repo's node_modules; removed by the returned function. */
function checkout(ref: string): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), "tollgate-compare-"));
  execFileSync("git", ["worktree", "add", "--detach", "--force", root, ref], { cwd: ROOT, stdio: "ignore" });
  symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
  return { root, remove: () => execFileSync("git", ["worktree", "remove", "--force", root], { cwd: ROOT, stdio: "ignore" }) };
}

type Side = { name: string; gw: Gateway; calls: Call[]; cpuPerReq: number[]; rps: number[]; p50: number[]; p99: number[] };

async function side(name: string, root: string, originUrl: string): Promise<Side> {
  const gw = await startGateway({ originUrl, root, log: (l) => console.error(`[${name}] ${l}`) });
  pinApart([gw.pid], []);
  await benchServices(gw, originUrl, 1_000);
  const payers = await fundedPayers(gw, Number(flags.accounts), "compare");
  const path = flags.arm === "bare" ? ARM_PATH.bare : ARM_PATH.tollgate;
  const calls = payers.map((p) => agentCall(p, path));
  return { name, gw, calls, cpuPerReq: [], rps: [], p50: [], p99: [] };
}

async function measure(s: Side, durationS: number): Promise<void> {
  if (flags.rate) return measurePaced(s, Number(flags.rate), durationS);
  const cpu0 = cpuMs(s.gw.pid);
  const run = await cannon({ url: s.gw.url, calls: s.calls, connections: Number(flags.connections), durationS });
  // The export that follows the run is part of its cost.
  await untilIdle(s.gw.pid);
  if (run.ok === 0) throw new Error(`${s.name}: no 2xx responses`);
  s.cpuPerReq.push(((cpuMs(s.gw.pid) - cpu0) * 1000) / run.ok);
  s.rps.push(run.rps);
  console.error(`${s.name.padEnd(6)} ${run.rps.toFixed(0).padStart(6)} req/s  ${s.cpuPerReq.at(-1)?.toFixed(0).padStart(5)} µs CPU/req  non-2xx ${run.non2xx}`);
}

async function measurePaced(s: Side, rate: number, durationS: number): Promise<void> {
  const cpu0 = cpuMs(s.gw.pid);
  const run = await paced({ base: s.gw.url, calls: s.calls, rate, durationMs: durationS * 1000, warmupMs: 500 });
  await untilIdle(s.gw.pid, 300);
  if (run.samples.length === 0) throw new Error(`${s.name}: no 2xx responses`);
  s.cpuPerReq.push(((cpuMs(s.gw.pid) - cpu0) * 1000) / run.sent);
  s.rps.push(run.achievedRate);
  s.p50.push(median(run.samples));
  s.p99.push(quantile(run.samples, 0.99));
  console.error(
    `${s.name.padEnd(6)} ${rate} req/s  ${s.cpuPerReq.at(-1)?.toFixed(0).padStart(5)} µs CPU/req  p50 ${s.p50.at(-1)?.toFixed(2)} ms  p99 ${s.p99.at(-1)?.toFixed(1)} ms`,
  );
}

/** `n` calls one at a time per side, alternating (AB, BA, …); each side's own accounts in turn. */
async function serial([before, after]: [Side, Side], n: number): Promise<void> {
  const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];
  const ms: [number[], number[]] = [[], []];
  const warm = 20;
  for (let i = 0; i < n + warm; i++) {
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const s = k === 0 ? before : after;
      const m = await timeToFirstByte(agents[k] as Agent, s.gw.url, s.calls[i % s.calls.length] as Call);
      if (m.status !== 200) throw new Error(`${s.name}: a serial call answered ${m.status}`);
      if (i >= warm) (k === 0 ? ms[0] : ms[1]).push(m.totalMs);
    }
  }
  for (const a of agents) a.destroy();
  const fmt = (v: number[]) => `median ${median(v).toFixed(3)} ms, p90 ${quantile(v, 0.9).toFixed(3)} ms`;
  console.log(`\n${flags.arm} arm, ${n} calls one at a time per side, alternating`);
  console.log(`before (${flags.base}): ${fmt(ms[0])}`);
  console.log(`after  (${flags.head ?? "working tree"}): ${fmt(ms[1])}`);
  console.log(`after − before: median ${(median(ms[1]) - median(ms[0])).toFixed(3)} ms`);
}

async function main() {
  if (!flags.base) throw new Error("--base <git ref> is required");
  const base = checkout(flags.base);
  const head = flags.head ? checkout(flags.head) : null;
  const origin = await startOriginProcess();
  pinApart([], [process.pid, origin.pid]);
  const sides: Side[] = [];
  try {
    sides.push(await side("before", base.root, origin.url));
    sides.push(await side("after", head?.root ?? ROOT, origin.url));
    const durationS = Number(flags.duration);
    for (const s of sides) await cannon({ url: s.gw.url, calls: s.calls, connections: Number(flags.connections), durationS: 2 });
    for (const s of sides) await untilIdle(s.gw.pid);
    if (flags.serial) {
      await serial(sides as [Side, Side], Number(flags.serial));
      return;
    }
    for (let r = 0; r < Number(flags.rounds); r++) {
      for (const s of r % 2 === 0 ? sides : [...sides].reverse()) await measure(s, durationS);
    }
    const [before, after] = sides as [Side, Side];
    const cpuB = median(before.cpuPerReq);
    const cpuA = median(after.cpuPerReq);
    const rpsB = median(before.rps);
    const rpsA = median(after.rps);
    console.log(`\n${flags.arm} arm, ${flags.rounds} interleaved rounds of ${durationS} s${flags.rate ? ` at ${flags.rate} req/s` : ""} (medians)`);
    console.log(`before (${flags.base}): ${cpuB.toFixed(0)} µs CPU/req, ${rpsB.toFixed(0)} req/s`);
    console.log(`after  (${flags.head ?? "working tree"}): ${cpuA.toFixed(0)} µs CPU/req, ${rpsA.toFixed(0)} req/s`);
    console.log(`after ÷ before: CPU ${(cpuA / cpuB).toFixed(3)}, throughput ${(rpsA / rpsB).toFixed(3)}`);
    // Paired within each round (its two runs are back to back): robust to drift across rounds,
    // and the count says whether the medians' ratio is a trend or one lucky round.
    const pairedCpu = after.cpuPerReq.map((a, i) => a / (before.cpuPerReq[i] ?? Number.NaN));
    const lower = pairedCpu.filter((x) => x < 1).length;
    console.log(
      `paired per round: CPU after ÷ before ${pairedCpu.map((x) => x.toFixed(3)).join(", ")} (median ${median(pairedCpu).toFixed(3)}; lower in ${lower} of ${pairedCpu.length})`,
    );
    if (flags.rate) {
      const ms = (s: Side) => `p50 ${median(s.p50).toFixed(2)} ms, p99 ${median(s.p99).toFixed(1)} ms`;
      console.log(`latency: before ${ms(before)}; after ${ms(after)}`);
    }
  } finally {
    for (const s of sides) await s.gw.stop();
    origin.stop();
    base.remove();
    head?.remove();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
