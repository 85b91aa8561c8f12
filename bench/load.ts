/**
 * Load generators: autocannon (closed loop, saturated or a fixed number of calls) and a paced
 * open-loop client for latency at a fixed rate.
 *
 * Why not autocannon for the fixed rate: its rate limit lets each connection send its whole
 * per-second quota as fast as it can at the top of every second and then sit idle, so the
 * latencies it reports at "half the saturation rate" are mostly queueing inside those bursts.
 * The paced client sends one request every 1/rate seconds (several per timer tick when the
 * timer is late) over keep-alive connections and times each one with `performance.now()`
 * (microseconds, where autocannon's histogram keeps whole milliseconds).
 */
import autocannon from "autocannon";
import { Agent, request as httpRequest } from "node:http";
import { performance } from "node:perf_hooks";

export type Call = { method: string; path: string; headers: Record<string, string>; body?: string };

export type Saturated = {
  /** 2xx responses per second over the run. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  statusCodes: Record<string, number>;
  latencyP50: number;
  latencyP99: number;
};

/** Closed-loop load: `connections` keep-alive connections, each sending as soon as it is answered. */
export async function cannon(opts: {
  url: string;
  calls: Call[];
  connections: number;
  durationS?: number;
  amount?: number;
  timeoutS?: number;
}): Promise<Saturated> {
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.durationS ?? 10 }),
    timeout: opts.timeoutS ?? 30,
    requests: opts.calls.map((c) => ({ method: c.method as autocannon.Request["method"], path: c.path, headers: c.headers, body: c.body })),
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (stat as { count: number }).count;
  const ok = result["2xx"];
  return {
    rps: ok / result.duration,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    statusCodes,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}

export type Paced = {
  /** Latencies (ms) of the 2xx responses sent after the warm-up. */
  samples: number[];
  sent: number;
  errors: number;
  statusCodes: Record<string, number>;
  /** Requests actually sent per second (after the warm-up). */
  achievedRate: number;
  /** With `trace`: [ms since the start when sent, latency ms] of every kept 2xx response. */
  trace?: [number, number][];
};

/** Open-loop load at `rate` requests per second for `durationMs`; the first `warmupMs` is not kept. */
export async function paced(opts: {
  base: string;
  calls: Call[];
  rate: number;
  durationMs: number;
  warmupMs: number;
  maxSockets?: number;
  trace?: boolean;
}): Promise<Paced> {
  const target = new URL(opts.base);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 256 });
  const prepared = opts.calls.map((call) => {
    const body = call.body ? Buffer.from(call.body) : null;
    return { call, body, headers: { ...call.headers, ...(body ? { "content-length": String(body.byteLength) } : {}) } };
  });
  const interval = 1000 / opts.rate;
  const total = Math.max(1, Math.floor((opts.rate * opts.durationMs) / 1000));
  const samples: number[] = [];
  const trace: [number, number][] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  let keptSent = 0;
  let inFlight = 0;
  const start = performance.now();
  const keepAfter = start + opts.warmupMs;

  const fire = (n: number) => {
    const { call, body, headers } = prepared[n % prepared.length] as (typeof prepared)[number];
    const t0 = performance.now();
    const kept = t0 >= keepAfter;
    sent++;
    if (kept) keptSent++;
    inFlight++;
    const req = httpRequest({ agent, host: target.hostname, port: target.port, method: call.method, path: call.path, headers }, (res) => {
      res.on("data", () => undefined);
      res.on("end", () => {
        const ms = performance.now() - t0;
        inFlight--;
        const code = String(res.statusCode);
        statusCodes[code] = (statusCodes[code] ?? 0) + 1;
        if (kept && (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) {
          samples.push(ms);
          if (opts.trace) trace.push([t0 - start, ms]);
        }
      });
    });
    req.on("error", () => {
      inFlight--;
      errors++;
    });
    req.end(body ?? undefined);
  };

  await new Promise<void>((resolve) => {
    let i = 0;
    const tick = () => {
      const now = performance.now();
      while (i < total && start + i * interval <= now) {
        fire(i);
        i++;
      }
      if (i < total) setTimeout(tick, Math.max(0, Math.min(1, start + i * interval - performance.now())));
      else resolve();
    };
    tick();
  });
  const deadline = performance.now() + 30_000;
  while (inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  agent.destroy();
  const keptMs = Math.max(1, opts.durationMs - opts.warmupMs);
  return { samples, sent, errors, statusCodes, achievedRate: (keptSent * 1000) / keptMs, ...(opts.trace ? { trace } : {}) };
}

export type Ttfb = { status: number; headersMs: number; firstByteMs: number; totalMs: number; bytes: number };

/** One request, timed to the response headers, to the first body byte and to the end. */
export function timeToFirstByte(agent: Agent, base: string, call: Call): Promise<Ttfb> {
  const target = new URL(base);
  const body = call.body ? Buffer.from(call.body) : null;
  const headers = { ...call.headers, ...(body ? { "content-length": String(body.byteLength) } : {}) };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = httpRequest({ agent, host: target.hostname, port: target.port, method: call.method, path: call.path, headers }, (res) => {
      const headersMs = performance.now() - t0;
      let firstByteMs = -1;
      let bytes = 0;
      res.on("data", (d: Buffer) => {
        if (firstByteMs < 0) firstByteMs = performance.now() - t0;
        bytes += d.byteLength;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headersMs, firstByteMs, totalMs: performance.now() - t0, bytes }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

/** The q-quantile (0…1) of `values` by nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The median: the middle value, or the mean of the two middle values of an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
