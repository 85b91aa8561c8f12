/**
 * The simulation's knobs, its shared constants and its counters (ledger.sim.test.ts prints them
 * after the run).
 *
 * Knobs come from the environment through vitest.config.mts (`provide`): SIM_SEED, SIM_RUNS (runs,
 * default 50), SIM_STEPS (most steps per run, default 25), SIM_PATH and SIM_REPLAY_PATH (to replay
 * one failing case, see ledger.sim.test.ts). The fixed default seed keeps CI deterministic up to
 * real-time alarm timing, which the checks tolerate (an export that fires on its own only moves D1
 * forward).
 */
import { inject, type ProvidedContext } from "vitest";
import type { LedgerStub } from "../../worker/account-client/stub";

// vitest's provide/inject types for the knobs (shards.sim.test.ts reads them too).
declare module "vitest" {
  export interface ProvidedContext {
    SIM_SEED: string;
    SIM_RUNS: string;
    SIM_STEPS: string;
    SIM_PATH: string;
    SIM_REPLAY_PATH: string;
  }
}

/** A knob provided by vitest.config.mts from the environment; "" when absent (another config). */
export function knob(name: keyof ProvidedContext): string {
  try {
    return String(inject(name) ?? "");
  } catch {
    return "";
  }
}

const DEFAULT_SEED = 20_260_702;
export const SEED = Number(knob("SIM_SEED") || DEFAULT_SEED);
export const RUNS = Number(knob("SIM_RUNS") || 50);
export const MAX_STEPS = Number(knob("SIM_STEPS") || 25);
export const PATH = knob("SIM_PATH") || undefined;
export const REPLAY_PATH = knob("SIM_REPLAY_PATH") || undefined;

export const UNKNOWN_KEY_HASH = "hash_never_issued";
export const PROVIDERS = ["prov_sim_a", "prov_sim_b"] as const;
export const FEES = [0, 250, 10_000] as const;

export type Real = { accountId: string; stub: LedgerStub };

/** Statistics for the summary line (one object, so that every module counts into the same one). */
export const stats = { runs: 0, steps: 0, stepsThisRun: 0, crashes: 0, alarms: 0 };
/** How often each outcome happened (printed at the end: proof the generator reaches each case). */
export const tally = new Map<string, number>();
export const count = (label: string) => tally.set(label, (tally.get(label) ?? 0) + 1);
// biome-ignore lint/suspicious/noConfusingVoidType: most steps report nothing and simply return
export type Outcome = { exportedAll?: boolean } | void;
