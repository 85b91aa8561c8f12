/**
 * What every phase of a bench run (bench/run.ts) shares: the configuration, the gateways and
 * their arms, the funded payers, the result being built and the problems found so far.
 */
import type { Payer } from "../api.ts";
import type { Gateway } from "../gateway.ts";
import type { Call } from "../load.ts";

export type ArmName = "direct" | "bare" | "floor" | "tollgate";

export type Config = {
  mode: "quick" | "full";
  rounds: number;
  /** Seconds per saturated run (each arm, each round). */
  durationS: number;
  warmupS: number;
  connections: number;
  /** Payer accounts the throughput and latency arms spread over (one DO each). */
  accounts: number;
  /** Seconds per fixed-rate run, and the part of it not kept (connections warming up). */
  rateDurationS: number;
  rateWarmupS: number;
  sseSamples: number;
  /** The hot account: calls sent, at this concurrency, against a balance for half of them. */
  hotCalls: number;
  hotConcurrency: number;
  /** Accounts touched (opened, credited, keyed, one call) for the per-account figures. */
  trackAccounts: number;
  /** Per-call price (micro-units). */
  price: number;
};

export type Run = {
  cfg: Config;
  log: (...parts: unknown[]) => void;
  /** The arms measured in this run, and round r's order of them (ABCD, BCDA, …). */
  arms: ArmName[];
  order: (round: number) => ArmName[];
  /** The real tree's gateway (bare and tollgate arms) and the origin every arm reaches. */
  gateway: Gateway;
  originUrl: string;
  /** The 32 funded payers of the real tree, each arm's calls, and the workerd whose CPU they cost. */
  payers: Payer[];
  target: Record<ArmName, { base: string; calls: Call[]; pid: number | null }>;
  /** Waits until every workerd is idle (a run's export must not spill into the next run). */
  idle: (minMs?: number) => Promise<void>;
  result: Record<string, unknown>;
  errors: string[];
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rounds to `d` decimals for the JSON result; null for what was not measured. */
export const round1 = (n: number, d = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : null);

export async function d1Rows<T>(gw: Gateway, sql: string, ...params: unknown[]): Promise<T[]> {
  const stmt = gw.d1.prepare(sql);
  return (await (params.length ? stmt.bind(...params) : stmt).all<T>()).results;
}
