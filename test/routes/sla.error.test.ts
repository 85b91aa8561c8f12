import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, createService, expectProblem, unique } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const SLA = { max_latency_ms: 500, refund: "full" };
const valid = () => ({ slug: unique("sla"), name: "n", origin: "https://example.com", prices: [{ per_call: 1 }] });

const BAD: [string, unknown][] = [
  ["negative max_latency_ms", { max_latency_ms: -1, refund: "full" }],
  ["zero max_latency_ms", { max_latency_ms: 0, refund: "full" }],
  ["fractional max_latency_ms", { max_latency_ms: 250.5, refund: "full" }],
  ["max_latency_ms as a string", { max_latency_ms: "500", refund: "full" }],
  ["max_latency_ms over 10 minutes", { max_latency_ms: 600_001, refund: "full" }],
  ["no max_latency_ms", { refund: "full" }],
  ["no refund", { max_latency_ms: 500 }],
  ["unknown refund", { max_latency_ms: 500, refund: "partial" }],
  ["an unknown field", { ...SLA, refund_percent: 50 }],
  ["a string", "500ms"],
  ["a number", 500],
  ["an array", [SLA]],
];

describe("sla: bad input → 400 invalid_request, nothing changed", () => {
  it.each(BAD)("create with %s", async (_name, sla) => {
    const body = { ...valid(), sla };
    const problem = await expectProblem(await call("/v1/services", { key: prov.key, body }), 400, "invalid_request");
    expect(problem.errors?.[0]?.path ?? "").toMatch(/^sla/);
    // Nothing was created: the slug is still free.
    expect((await api("/v1/services", { key: prov.key, body: { ...body, sla: SLA } })).status).toBe(201);
  });

  it.each(BAD)("PATCH with %s", async (_name, sla) => {
    const svc = await createService(prov.key, { sla: SLA });
    await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { sla, name: "renamed" } }), 400, "invalid_request");
    const got = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect([got.body.sla, got.body.name, got.body.updated_at]).toEqual([SLA, svc.name, svc.updated_at]);
  });
});

describe("sla: set, shown, changed, cleared", () => {
  it("defaults to null; PATCH sets and changes it; null clears it; GET, the list and /openapi.json show it", async () => {
    const svc = await createService(prov.key);
    expect(svc.sla).toBeNull();
    const set = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { sla: SLA } });
    expect([set.status, set.body.sla]).toEqual([200, SLA]);
    const none = { max_latency_ms: 600_000, refund: "none" };
    expect((await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { sla: none } })).body.sla).toEqual(none);
    // A PATCH without sla leaves it as it is.
    expect((await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { name: "other" } })).body.sla).toEqual(none);
    const listed = await api("/v1/services?limit=100", { key: prov.key });
    expect(listed.body.data.find((s: any) => s.id === svc.id)?.sla).toEqual(none);
    const cleared = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { sla: null } });
    expect([cleared.status, cleared.body.sla]).toEqual([200, null]);
    expect((await api(`/v1/services/${svc.id}`, { key: OPERATOR })).body.sla).toBeNull();

    const spec = (await api("/openapi.json")).body;
    const schemas = spec.components.schemas;
    expect(JSON.stringify(schemas.Service.properties.sla)).toContain("ServiceSla");
    expect(schemas.ServiceSla).toMatchObject({
      properties: { max_latency_ms: { type: "integer", minimum: 1, maximum: 600_000 }, refund: { enum: ["full", "none"] } },
    });
    expect(Object.keys(schemas.ServiceCreate.properties)).toContain("sla");
    expect(Object.keys(schemas.ServicePatch.properties)).toContain("sla");
  });

  it("another provider cannot set a service's SLA", async () => {
    const svc = await createService(prov.key);
    const other = await createProvider();
    await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: other.key, body: { sla: SLA } }), 404, "not_found");
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.sla).toBeNull();
  });
});
