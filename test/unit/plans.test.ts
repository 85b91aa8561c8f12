import { describe, expect, it } from "vitest";
import { type Plan, PlanInputs, plansCovering, resolvePlans } from "../../core/pricing/plans";

const plan = (id: string, match: Plan["match"], pass_only = false): Plan => ({ id, name: id, price: 1, duration_s: 60, calls: null, match, pass_only });

describe("plansCovering", () => {
  const plans = [
    plan("pln_translate", { method: "POST", path: "/v1/translate*" }),
    plan("pln_search", { path: "/search/*" }, true),
    plan("pln_all_gets", { method: "GET" }),
  ];

  it("null at once for a service without plans", () => {
    expect(plansCovering([], "GET", "/anything")).toBeNull();
  });

  it("null when no plan fits the call", () => {
    expect(plansCovering(plans, "DELETE", "/v1/translate")).toBeNull();
    expect(plansCovering(plans, "POST", "/v2/translate")).toBeNull();
    expect(plansCovering(plans, "PUT", "/search")).toBeNull(); // "/search/*" needs the slash
  });

  it("method is exact, path a glob where * spans slashes", () => {
    expect(plansCovering(plans, "POST", "/v1/translate")).toEqual({ planIds: ["pln_translate"], passOnly: false });
    expect(plansCovering(plans, "POST", "/v1/translate/batch/x")).toEqual({ planIds: ["pln_translate"], passOnly: false });
    expect(plansCovering(plans, "post", "/v1/translate")).toBeNull();
  });

  it("every plan that fits, in list order, pass_only if any of them is", () => {
    expect(plansCovering(plans, "GET", "/search/a/b")).toEqual({ planIds: ["pln_search", "pln_all_gets"], passOnly: true });
    expect(plansCovering(plans, "GET", "/v1/translate")).toEqual({ planIds: ["pln_all_gets"], passOnly: false });
    expect(plansCovering(plans, "POST", "/search/q")).toEqual({ planIds: ["pln_search"], passOnly: true });
  });

  it("an empty match fits every call", () => {
    const all = [plan("pln_x", {}, true)];
    for (const [m, p] of [
      ["GET", "/"],
      ["PATCH", "/a/b?c"],
    ]) {
      expect(plansCovering(all, m as string, p as string)).toEqual({ planIds: ["pln_x"], passOnly: true });
    }
  });
});

describe("PlanInputs and resolvePlans", () => {
  it("defaults match to {} and pass_only to false; a bundle keeps both limits", () => {
    const [p] = PlanInputs.parse([{ name: "b", price: 5, duration_s: 60, calls: 10 }]);
    expect(p).toEqual({ name: "b", price: 5, duration_s: 60, calls: 10, match: {}, pass_only: false });
  });

  it("refuses each bad field", () => {
    const ok = { name: "p", price: 1, calls: 1 };
    const bad: unknown[] = [
      { ...ok, price: 0 },
      { ...ok, price: -1 },
      { ...ok, price: 1.5 },
      { ...ok, price: "1" },
      { ...ok, price: 2 ** 53 },
      { ...ok, name: "" },
      { ...ok, name: "x".repeat(101) },
      { ...ok, duration_s: 59 },
      { ...ok, duration_s: 60.5 },
      { ...ok, duration_s: 31_536_001 },
      { ...ok, calls: 0 },
      { ...ok, calls: 1_000_000_001 },
      { name: "p", price: 1 },
      { ...ok, extra: true },
      { ...ok, match: { method: "get" } },
      { ...ok, match: { path: "no-slash" } },
      { ...ok, match: { host: "x" } },
      { ...ok, pass_only: "yes" },
    ];
    for (const b of bad) expect(PlanInputs.safeParse([b]).success, JSON.stringify(b)).toBe(false);
    expect(PlanInputs.safeParse(Array.from({ length: 20 }, () => ok)).success).toBe(true);
    expect(PlanInputs.safeParse(Array.from({ length: 21 }, () => ok)).success).toBe(false);
    expect(
      PlanInputs.safeParse([
        { ...ok, duration_s: 60 },
        { ...ok, duration_s: 31_536_000 },
      ]).success,
    ).toBe(true);
  });

  it("refuses an id listed twice", () => {
    const r = PlanInputs.safeParse([
      { id: "pln_a", name: "a", price: 1, calls: 1 },
      { id: "pln_a", name: "b", price: 1, calls: 1 },
    ]);
    expect(r.success).toBe(false);
  });

  it("new plans get fresh ids; given ids must be the service's own", () => {
    let n = 0;
    const fresh = () => `pln_new${n++}`;
    const input = PlanInputs.parse([
      { id: "pln_kept", name: "renamed", price: 9, calls: 3 },
      { name: "new", price: 1, duration_s: 3600 },
    ]);
    const ok = resolvePlans(input, new Set(["pln_kept", "pln_dropped"]), fresh);
    expect(ok.plans?.map((p) => p.id)).toEqual(["pln_kept", "pln_new0"]);
    expect(ok.plans?.[1]).toEqual({ id: "pln_new0", name: "new", price: 1, duration_s: 3600, calls: null, match: {}, pass_only: false });
    const refused = resolvePlans(input, new Set(["pln_other"]), fresh);
    expect(refused.plans).toBeNull();
    expect(refused.issues).toEqual([{ path: "plans.0.id", message: expect.any(String) }]);
  });
});
