import { beforeAll, describe, expect, it } from "vitest";
import { db } from "../../worker/db/client";
import { serviceBySlug } from "../../worker/services/cache";
import { findPlan } from "../../worker/services/plans";
import { getService } from "../../worker/services/store";
import { testEnv } from "../durable-objects/helpers";
import { api, createProvider, createService } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const PLAN_ID = /^pln_[0-9a-z]{20}$/;
const MONTH = { name: "1,000 translations", price: 1_000_000, duration_s: 2_592_000, calls: 1_000, match: { method: "POST", path: "/v1/translate*" } };
const DAY = { name: "Unlimited search, 24 h", price: 250_000, duration_s: 86_400, match: { path: "/search/*" }, pass_only: true };

const patch = (id: string, body: unknown) => api(`/v1/services/${id}`, { method: "PATCH", key: prov.key, body });

describe("plans on a service", () => {
  it("a service without plans shows an empty list", async () => {
    const svc = await createService(prov.key);
    expect(svc.plans).toEqual([]);
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.plans).toEqual([]);
  });

  it("create: each plan gets a pln_ id and its defaults; GET and the list show them", async () => {
    const svc = await createService(prov.key, { plans: [MONTH, DAY, { name: "100 calls", price: 1, calls: 100 }] });
    expect(svc.plans).toEqual([
      { id: expect.stringMatching(PLAN_ID), ...MONTH, pass_only: false },
      { id: expect.stringMatching(PLAN_ID), ...DAY, calls: null },
      { id: expect.stringMatching(PLAN_ID), name: "100 calls", price: 1, duration_s: null, calls: 100, match: {}, pass_only: false },
    ]);
    expect(new Set(svc.plans.map((p: { id: string }) => p.id)).size).toBe(3);
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.plans).toEqual(svc.plans);
    const list = await api("/v1/services?limit=100", { key: prov.key });
    expect(list.body.data.find((s: { id: string }) => s.id === svc.id).plans).toEqual(svc.plans);
  });

  it("PATCH replaces the list: a sent id keeps its plan (renamed, repriced), a plan left out is gone, a new one gets a new id", async () => {
    const svc = await createService(prov.key, { plans: [MONTH, DAY] });
    const [month, day] = svc.plans;
    const r = await patch(svc.id, {
      plans: [
        { ...MONTH, id: month.id, name: "Translations, monthly", price: 900_000 },
        { name: "New", price: 5, calls: 5 },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.plans[0]).toEqual({ ...month, name: "Translations, monthly", price: 900_000 });
    expect(r.body.plans[1].id).toMatch(PLAN_ID);
    expect([month.id, day.id]).not.toContain(r.body.plans[1].id);
    expect(r.body.plans).toHaveLength(2);
    // Another PATCH without `plans` leaves them alone; an empty list clears them.
    expect((await patch(svc.id, { name: "renamed" })).body.plans).toEqual(r.body.plans);
    expect((await patch(svc.id, { plans: [] })).body.plans).toEqual([]);
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.plans).toEqual([]);
  });

  it("the public pricing shows the plans with what a pass is", async () => {
    const svc = await createService(prov.key, { plans: [DAY] });
    const r = await api(`/v1/services/${svc.id}/pricing`);
    expect(r.status).toBe(200);
    expect(r.body.plans).toEqual(svc.plans);
    expect(r.body.plans_note).toMatch(/pass/);
    const none = await api(`/v1/services/${(await createService(prov.key)).id}/pricing`);
    expect(none.body.plans).toEqual([]);
  });

  it("the isolate's service cache carries the plans (the proxy needs no D1 query for them)", async () => {
    const svc = await createService(prov.key, { plans: [MONTH] });
    const cached = await serviceBySlug(testEnv, svc.slug);
    expect(cached?.plans).toEqual(svc.plans);
  });

  it("/openapi.json documents plans: a Plan schema on services and pricing, the input on create and PATCH", async () => {
    const { schemas } = (await api("/openapi.json")).body.components;
    expect(Object.keys(schemas.Plan.properties).sort()).toEqual(["calls", "duration_s", "id", "match", "name", "pass_only", "price"]);
    expect(schemas.Plan.properties.price.type).toBe("integer");
    for (const view of ["Service", "Pricing"]) expect(schemas[view].properties.plans.items).toEqual({ $ref: "#/components/schemas/Plan" });
    for (const input of ["ServiceCreate", "ServicePatch"]) {
      const plans = schemas[input].properties.plans;
      expect(plans.maxItems, input).toBe(20);
      expect(plans.items.additionalProperties, input).toBe(false);
      expect(plans.items.required.sort(), input).toEqual(["name", "price"]);
    }
  });

  it("findPlan: the service and the plan, or null", async () => {
    const svc = await createService(prov.key, { plans: [MONTH, DAY] });
    const found = await findPlan(db(testEnv), svc.plans[1].id);
    expect(found?.plan).toEqual(svc.plans[1]);
    expect(found?.service).toEqual(await getService(db(testEnv), svc.id));
    expect(await findPlan(db(testEnv), "pln_00000000000000000000")).toBeNull();
    expect(await findPlan(db(testEnv), "")).toBeNull();
    // A plan dropped by PATCH is no longer found.
    await patch(svc.id, { plans: [{ ...DAY, id: svc.plans[1].id }] });
    expect(await findPlan(db(testEnv), svc.plans[0].id)).toBeNull();
    expect((await findPlan(db(testEnv), svc.plans[1].id))?.service.id).toBe(svc.id);
  });

  it("race: services created at once with plans all get distinct ids; concurrent PATCHes keeping an id leave one whole list", async () => {
    const created = await Promise.all(Array.from({ length: 10 }, () => createService(prov.key, { plans: [MONTH, DAY] })));
    const ids = created.flatMap((s) => s.plans.map((p: { id: string }) => p.id));
    expect(new Set(ids).size).toBe(20);

    const svc = created[0];
    const kept = svc.plans[0].id;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        patch(svc.id, {
          plans: [
            { ...MONTH, id: kept, price: 1_000 + i },
            { name: `n${i}`, price: 1, calls: 1 },
          ],
        }),
      ),
    );
    for (const a of answers) expect(a.status).toBe(200);
    const final = (await api(`/v1/services/${svc.id}`, { key: prov.key })).body.plans;
    // Last write wins, whole: the kept plan and the one new plan of the same request.
    expect(final).toHaveLength(2);
    expect(final[0].id).toBe(kept);
    const i = final[0].price - 1_000;
    expect(final[1].name).toBe(`n${i}`);
    expect(answers.some((a) => JSON.stringify(a.body.plans) === JSON.stringify(final))).toBe(true);
  });
});
