import { z } from "zod";
import { PositiveAmount } from "./amount";
import { CallMatch, matchFits } from "./rules";

/**
 * A plan: a pass agents can buy from a service, for `price` micro-units of the service's
 * currency. The pass covers the calls `match` fits, for `duration_s` seconds, for `calls` calls,
 * or both (a bundle that also expires: whichever ends first). `pass_only` refuses the calls it
 * matches to anyone without a pass.
 */
export type Plan = {
  id: string;
  name: string;
  price: number;
  duration_s: number | null;
  calls: number | null;
  match: CallMatch;
  pass_only: boolean;
};

export const MAX_PLANS = 20;
/** One minute to a (365-day) year. */
export const PlanDuration = z.number().int().min(60).max(31_536_000);
export const PlanCalls = z.number().int().min(1).max(1_000_000_000);

/**
 * A plan as a provider sends it. `id` absent: a new plan; present: one of the service's current
 * plans, kept (checked against the stored list by `resolvePlans`, which a schema cannot see).
 */
export const PlanInput = z
  .object({
    id: z.string().max(64).optional(),
    name: z.string().min(1).max(100),
    price: PositiveAmount,
    duration_s: PlanDuration.optional(),
    calls: PlanCalls.optional(),
    match: CallMatch.default({}),
    pass_only: z.boolean().default(false),
  })
  .strict()
  .refine((p) => p.duration_s !== undefined || p.calls !== undefined, { message: "a plan needs duration_s, calls or both", path: ["duration_s"] });
export type PlanInput = z.infer<typeof PlanInput>;

export const PlanInputs = z
  .array(PlanInput)
  .max(MAX_PLANS)
  .superRefine((plans, ctx) => {
    const seen = new Set<string>();
    plans.forEach((p, i) => {
      if (p.id === undefined) return;
      if (seen.has(p.id)) ctx.addIssue({ code: "custom", message: "plan ids must be unique", path: [i, "id"] });
      seen.add(p.id);
    });
  });

export type PlanIssue = { path: string; message: string };

/**
 * The list to store: new plans get a fresh id from `newPlanId`; a given id must be one of
 * `currentIds` (the service's own plans), so a client can neither invent an id nor borrow
 * another service's, and a pass bought under an id always meant this service.
 */
export function resolvePlans(
  input: readonly PlanInput[],
  currentIds: ReadonlySet<string>,
  newPlanId: () => string,
): { plans: Plan[]; issues: [] } | { plans: null; issues: PlanIssue[] } {
  const issues: PlanIssue[] = [];
  const plans = input.map((p, i): Plan => {
    if (p.id !== undefined && !currentIds.has(p.id)) issues.push({ path: `plans.${i}.id`, message: "not a plan of this service: omit id for a new plan" });
    return {
      id: p.id ?? newPlanId(),
      name: p.name,
      price: p.price,
      duration_s: p.duration_s ?? null,
      calls: p.calls ?? null,
      match: p.match,
      pass_only: p.pass_only,
    };
  });
  return issues.length > 0 ? { plans: null, issues } : { plans, issues: [] };
}

/**
 * The plans a call falls under (the proxy asks on every call of a service with plans): the ids
 * of every plan whose `match` fits, and whether any of them is `pass_only`; null when none fits.
 * A service without plans returns at once.
 */
export function plansCovering(plans: readonly Plan[], method: string, path: string): { planIds: string[]; passOnly: boolean } | null {
  if (plans.length === 0) return null;
  const planIds: string[] = [];
  let passOnly = false;
  for (const plan of plans) {
    if (!matchFits(plan.match, method, path)) continue;
    planIds.push(plan.id);
    if (plan.pass_only) passOnly = true;
  }
  return planIds.length > 0 ? { planIds, passOnly } : null;
}
