/** Process facts from /proc (Linux): CPU time, resident memory, CPU pinning with taskset. */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

let clockTicks: number | null = null;

/** Clock ticks per second (`getconf CLK_TCK`, almost always 100). */
export function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time of a process (all its threads) so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 (utime) and 15 (stime), 1-based over the whole line → 11 and 12 after ") ".
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

export function canPin(): boolean {
  return existsSync("/usr/bin/taskset") || existsSync("/bin/taskset");
}

export function cpuCount(): number {
  return cpus().length;
}

/** Pins every thread of `pid` to the CPUs in `list` (e.g. "1" or "0,1"). */
export function pin(pid: number, list: string): void {
  execFileSync("taskset", ["-a", "-p", "-c", list, String(pid)], { stdio: "ignore" });
}

/**
 * Pins the workerd processes to the last CPU and the rest (the load generator, the origin) to the
 * others, so the measured process never shares a CPU with the load. Says what it did: "none" on a
 * machine with one CPU or without `taskset`.
 */
export function pinApart(workerd: readonly number[], rest: readonly number[]): string {
  if (!canPin() || cpuCount() < 2) return "none";
  const last = cpuCount() - 1;
  const others = last === 1 ? "0" : `0-${last - 1}`;
  for (const pid of workerd) pin(pid, String(last));
  for (const pid of rest) pin(pid, others);
  return `workerd → CPU ${last}; load generator + origin → CPU ${others}`;
}

export function machine(): { cpu: string; cores: number; memGiB: number; kernel: string; node: string } {
  const info = cpus();
  let memGiB = 0;
  try {
    const kb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
    memGiB = Math.round((kb / 1024 / 1024) * 10) / 10;
  } catch {
    // not Linux
  }
  let kernel = "";
  try {
    kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    // not Linux
  }
  return { cpu: info[0]?.model ?? "unknown", cores: info.length, memGiB, kernel, node: process.version };
}

/** 1-minute load average (other work on the machine makes the figures noisy). */
export function loadAverage(): number[] {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

/** Waits until `pid` has used (almost) no CPU for 300 ms: the previous run's tail (exports) is done. */
export async function untilIdle(pid: number, minMs = 700, maxMs = 8_000): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(minMs);
  const deadline = Date.now() + maxMs;
  let last = cpuMs(pid);
  while (Date.now() < deadline) {
    await sleep(300);
    const now = cpuMs(pid);
    if (now - last <= 10) return;
    last = now;
  }
}
