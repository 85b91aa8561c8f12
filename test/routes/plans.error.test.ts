import { beforeAll, describe, expect, it } from "vitest";
import { api, call, createProvider, createService, expectProblem, unique } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const OK = { name: "p", price: 1_000, calls: 10 };
const valid = () => ({ slug: unique("pln"), name: "n", origin: "https://example.com", prices: [{ per_call: 1 }] });

const BAD_PLANS: [string, unknown][] = [
  ["zero price", [{ ...OK, price: 0 }]],
  ["negative price", [{ ...OK, price: -5 }]],
  ["fractional price", [{ ...OK, price: 1.5 }]],
  ["price as a string", [{ ...OK, price: "1000" }]],
  ["price of 2^53", [{ ...OK, price: 2 ** 53 }]],
  ["no price", [{ name: "p", calls: 10 }]],
  ["no name", [{ price: 1, calls: 10 }]],
  ["empty name", [{ ...OK, name: "" }]],
  ["101-character name", [{ ...OK, name: "x".repeat(101) }]],
  ["duration of 59 s", [{ ...OK, duration_s: 59 }]],
  ["fractional duration", [{ ...OK, duration_s: 3600.5 }]],
  ["duration over a year", [{ ...OK, duration_s: 31_536_001 }]],
  ["zero calls", [{ ...OK, calls: 0 }]],
  ["fractional calls", [{ ...OK, calls: 1.5 }]],
  ["over a billion calls", [{ ...OK, calls: 1_000_000_001 }]],
  ["neither duration nor calls", [{ name: "p", price: 1 }]],
  ["an unknown field", [{ ...OK, currency: "EUR" }]],
  ["a lower-case match method", [{ ...OK, match: { method: "post" } }]],
  ["a match path without a slash", [{ ...OK, match: { path: "v1/*" } }]],
  ["an unknown match field", [{ ...OK, match: { host: "example.com" } }]],
  ["a match that is not an object", [{ ...OK, match: "/v1/*" }]],
  ["pass_only as a string", [{ ...OK, pass_only: "true" }]],
  ["21 plans", Array.from({ length: 21 }, () => OK)],
  ["plans not a list", OK],
  ["plans null", null],
  ["an invented id", [{ ...OK, id: "pln_00000000000000000000" }]],
  [
    "an id listed twice",
    [
      { ...OK, id: "pln_00000000000000000000" },
      { ...OK, id: "pln_00000000000000000000" },
    ],
  ],
];

describe("POST /v1/services: bad plans → 400, nothing created", () => {
  it.each(BAD_PLANS)("%s", async (_, plans) => {
    const body = { ...valid(), plans };
    const problem = await expectProblem(await call("/v1/services", { key: prov.key, body }), 400, "invalid_request");
    expect(problem.detail).toMatch(/plans/);
    // The slug is still free: nothing was written.
    const retry = await api("/v1/services", { key: prov.key, body: { ...body, plans: [OK] } });
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
  });

  it("20 plans are fine", async () => {
    const svc = await createService(prov.key, { plans: Array.from({ length: 20 }, (_, i) => ({ ...OK, name: `p${i}` })) });
    expect(svc.plans).toHaveLength(20);
  });
});

describe("PATCH /v1/services/{id}: bad plans → 400, the service unchanged", () => {
  let svc: any;
  let other: any;
  beforeAll(async () => {
    svc = await createService(prov.key, { plans: [OK, { ...OK, name: "q", duration_s: 60 }] });
    other = await createService((await createProvider()).key, { plans: [OK] });
  });

  const expectUnchanged = async () => {
    const now = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect(now.body.plans).toEqual(svc.plans);
    expect(now.body.name).toBe(svc.name);
    expect(now.body.updated_at).toBe(svc.updated_at);
  };

  it.each(BAD_PLANS)("%s", async (_, plans) => {
    // A valid change sent along must not land either.
    await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { name: "changed", plans } }), 400, "invalid_request");
    await expectUnchanged();
  });

  it("another service's plan id cannot be borrowed", async () => {
    const body = { plans: [{ ...OK, id: other.plans[0].id }] };
    const problem = await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body }), 400, "invalid_request");
    expect(problem.errors).toEqual([{ path: "plans.0.id", message: expect.any(String) }]);
    await expectUnchanged();
    expect((await api(`/v1/services/${other.id}/pricing`)).body.plans).toEqual(other.plans);
  });

  it("a service's own id listed twice", async () => {
    const id = svc.plans[0].id;
    const body = {
      plans: [
        { ...OK, id },
        { ...OK, id },
      ],
    };
    await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body }), 400, "invalid_request");
    await expectUnchanged();
  });

  it("a dropped plan's id cannot come back", async () => {
    const s = await createService(prov.key, { plans: [OK, OK] });
    const [keep, drop] = s.plans;
    expect((await api(`/v1/services/${s.id}`, { method: "PATCH", key: prov.key, body: { plans: [{ ...OK, id: keep.id }] } })).status).toBe(200);
    const body = {
      plans: [
        { ...OK, id: keep.id },
        { ...OK, id: drop.id },
      ],
    };
    await expectProblem(await call(`/v1/services/${s.id}`, { method: "PATCH", key: prov.key, body }), 400, "invalid_request");
  });

  it("at create, any id is refused (the service has no plans yet)", async () => {
    const body = { ...valid(), plans: [{ ...OK, id: svc.plans[0].id }] };
    await expectProblem(await call("/v1/services", { key: prov.key, body }), 400, "invalid_request");
    await expectUnchanged();
  });
});
