/**
 * The base of every simulation step (a fast-check command: it acts on the real object and the
 * model, then checks every invariant), and how steps pick amounts and holds.
 */
import fc from "fast-check";
import { checkAll } from "./checks";
import { count, type Outcome, type Real, stats } from "./knobs";
import type { LedgerModel } from "./model";
import type { ModelHold } from "./model-types";

export type AmountSpec = { abs: number } | { rel: "all" | "over" } | { frac: number };
export const amountSpec: fc.Arbitrary<AmountSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3_000 }).map((abs) => ({ abs })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 1_000_000).map((abs) => ({ abs })) },
  { weight: 2, arbitrary: fc.constantFrom<"all" | "over">("all", "over").map((rel) => ({ rel })) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((frac) => ({ frac })) },
);
export function resolve(spec: AmountSpec, available: number): number {
  if ("abs" in spec) return spec.abs;
  if ("frac" in spec) return Math.floor(available * spec.frac);
  return spec.rel === "all" ? available : available + 1;
}
export const showSpec = (s: AmountSpec) => ("abs" in s ? String(s.abs) : "frac" in s ? `${s.frac.toFixed(2)}×avail` : s.rel);

export abstract class Step implements fc.AsyncCommand<LedgerModel, Real> {
  check(_m: Readonly<LedgerModel>): boolean {
    return true;
  }
  protected abstract act(m: LedgerModel, r: Real): Promise<Outcome>;
  async run(m: LedgerModel, r: Real): Promise<void> {
    stats.stepsThisRun++;
    count(`step:${this.constructor.name}`);
    const outcome = await this.act(m, r);
    await checkAll(m, r, outcome ?? {});
  }
  abstract toString(): string;
}

export const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);

/** Which hold a step acts on: mostly a pending one, sometimes any (resolved ones too), rarely none. */
export type HoldPick = { n: number; from: "pending" | "any" | "unknown" };
export const holdPick: fc.Arbitrary<HoldPick> = fc.record({
  n: fc.nat({ max: 1_000 }),
  from: fc.constantFrom<HoldPick["from"]>("pending", "pending", "pending", "any", "any", "unknown"),
});
export function pickHold(m: Readonly<LedgerModel>, p: HoldPick): ModelHold | undefined {
  if (p.from === "unknown") return undefined;
  const pending = m.holds.filter((h) => h.state === "pending");
  return pick(p.from === "pending" && pending.length > 0 ? pending : m.holds, p.n);
}
export const showPick = (p: HoldPick) => (p.from === "unknown" ? "unknown" : `${p.from}#${p.n}`);
