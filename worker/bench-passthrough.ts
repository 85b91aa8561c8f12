import type { Context, Next } from "hono";
import type { AppEnv, Env } from "./env";

/**
 * Benchmark-only routes (bench/run.ts). They exist only when the harness gives the Worker
 * `BENCH_PASSTHROUGH = "1"` and `BENCH_ORIGIN`; production's wrangler.toml sets neither, so every
 * `/__bench/…` request falls through to the app's usual handling (a 404). Mounted before every
 * other handler, so the pass-through runs no Tollgate middleware at all:
 *
 *   any /__bench/pass/{path}   a bare Hono pass-through to BENCH_ORIGIN/{path}: no auth, no ledger,
 *                              no metering — the baseline Tollgate's overhead is measured against.
 *   GET /__bench/d1-stats      the D1 call counters of the harness's counting D1 wrapper (if the
 *                              harness installed it), to report entries per D1 call.
 */
type BenchEnv = Env & { BENCH_PASSTHROUGH?: string; BENCH_ORIGIN?: string };

const PASS = "/__bench/pass";

// biome-ignore lint/suspicious/noConfusingVoidType: a Hono handler either answers or passes on (next() resolves to void)
export async function benchRoutes(c: Context<AppEnv>, next: Next): Promise<Response | void> {
  const env = c.env as BenchEnv;
  if (env.BENCH_PASSTHROUGH !== "1" || !env.BENCH_ORIGIN) return next();
  const request = c.req.raw;
  const url = new URL(request.url);
  if (url.pathname.startsWith(`${PASS}/`)) {
    const headers = new Headers(request.headers);
    headers.delete("host");
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    return fetch(`${env.BENCH_ORIGIN}${url.pathname.slice(PASS.length)}${url.search}`, {
      method: request.method,
      headers,
      body: hasBody ? request.body : null,
      redirect: "manual",
    });
  }
  if (url.pathname === "/__bench/d1-stats") {
    const stats = (env.DB as unknown as { benchStats?: () => unknown }).benchStats?.() ?? null;
    return Response.json(stats);
  }
  return next();
}
