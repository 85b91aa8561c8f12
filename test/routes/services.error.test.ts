import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, createService, expectProblem, unique } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const valid = () => ({ slug: unique("err"), name: "n", origin: "https://example.com", prices: [{ per_call: 1 }] });

describe("POST /v1/services: conflicts → 409", () => {
  it("a taken slug, by the same or another provider", async () => {
    const svc = await createService(prov.key);
    const other = await createProvider();
    for (const key of [prov.key, other.key]) {
      const body = { ...valid(), slug: svc.slug };
      await expectProblem(await call("/v1/services", { key, body }), 409, "conflict");
    }
  });

  it("a hostname that belongs to another service; nothing is half-created", async () => {
    const host = `${unique("taken")}.example.test`;
    await createService(prov.key, { hostnames: [host] });
    const body = { ...valid(), hostnames: [`${unique("free")}.example.test`, host] };
    await expectProblem(await call("/v1/services", { key: prov.key, body }), 409, "hostname_taken");
    // The service row and its hostnames are one batch: the slug is still free.
    const retry = await api("/v1/services", { key: prov.key, body: { ...body, hostnames: [] } });
    expect(retry.status).toBe(201);
  });

  it("a PATCH to a taken hostname leaves the service's hostnames as they were", async () => {
    const taken = `${unique("taken")}.example.test`;
    const mine = `${unique("mine")}.example.test`;
    await createService(prov.key, { hostnames: [taken] });
    const svc = await createService(prov.key, { hostnames: [mine] });
    await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { hostnames: [taken] } }), 409, "hostname_taken");
    const got = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect(got.body.hostnames).toEqual(svc.hostnames);
  });
});

describe("POST /v1/services: bad input → 400", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["ftp: origin", { origin: "ftp://example.com" }],
    ["origin with userinfo", { origin: "https://user:pass@example.com" }],
    ["origin with a user only", { origin: "https://user@example.com" }],
    ["relative origin", { origin: "/v1" }],
    ["origin without a scheme", { origin: "example.com" }],
    ["origin with a query", { origin: "https://example.com/?a=1" }],
    ["origin with a fragment", { origin: "https://example.com/#x" }],
    ["javascript: origin", { origin: "javascript:alert(1)" }],
    ["file: origin", { origin: "file:///etc/passwd" }],
    ["one-character slug", { slug: "a" }],
    ["upper-case slug", { slug: "Echo" }],
    ["slug with an underscore", { slug: "my_svc" }],
    ["slug with a slash", { slug: "a/b" }],
    ["64-character slug", { slug: "a".repeat(64) }],
    ["no prices", { prices: [] }],
    ["negative price", { prices: [{ per_call: -1 }] }],
    ["fractional price", { prices: [{ per_call: 1.5 }] }],
    ["price as a string", { prices: [{ per_call: "1" }] }],
    ["price of 2^53", { prices: [{ per_call: 2 ** 53 }] }],
    ["lower-case method", { prices: [{ match: { method: "get" }, per_call: 1 }] }],
    ["path glob without a leading /", { prices: [{ match: { path: "v1/*" }, per_call: 1 }] }],
    ["unknown match field", { prices: [{ match: { host: "x" }, per_call: 1 }] }],
    ["timeout below 100 ms", { timeout_ms: 99 }],
    ["timeout above 120 s", { timeout_ms: 120_001 }],
    ["upper-case hostname", { hostnames: ["Api.Example.test"] }],
    ["single-label hostname", { hostnames: ["localhost"] }],
    ["hostname with a port", { hostnames: ["api.example.test:8443"] }],
    ["duplicate hostnames", { hostnames: ["dup.example.test", "dup.example.test"] }],
    ["unknown field", { owner: "me" }],
  ];
  it.each(cases)("%s", async (_label, change) => {
    const body = { ...valid(), ...change };
    await expectProblem(await call("/v1/services", { key: prov.key, body }), 400, "invalid_request");
    const list = await api("/v1/services?limit=100", { key: prov.key });
    expect(list.body.data.map((s: { slug: string }) => s.slug)).not.toContain(body.slug);
  });

  it.each(["slug", "name", "origin", "prices"])("missing %s", async (field) => {
    const body: Record<string, unknown> = valid();
    delete body[field];
    await expectProblem(await call("/v1/services", { key: prov.key, body }), 400, "invalid_request");
  });
});

describe("operator-only fields", () => {
  it("a provider cannot set fee_bps on create → 403", async () => {
    await expectProblem(await call("/v1/services", { key: prov.key, body: { ...valid(), fee_bps: 0 } }), 403, "forbidden");
  });

  it("a provider cannot set fee_bps on patch → 403, and fee_bps is unchanged", async () => {
    const svc = await createService(prov.key);
    await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { fee_bps: 0 } }), 403, "forbidden");
    await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { name: "x", fee_bps: null } }), 403, "forbidden");
    const got = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect(got.body).toMatchObject({ fee_bps: null, name: svc.name });
  });

  it("the operator must name an existing provider", async () => {
    await expectProblem(await call("/v1/services", { key: OPERATOR, body: valid() }), 400, "invalid_request");
    await expectProblem(await call("/v1/services", { key: OPERATOR, body: { ...valid(), provider_id: "prov_00000000000000000000" } }), 404, "not_found");
  });
});

describe("PATCH /v1/services/{id}: bad input", () => {
  it("the slug cannot change; bad origins and prices are refused; nothing changes", async () => {
    const svc = await createService(prov.key);
    for (const body of [{ slug: "new-slug" }, { origin: "ftp://x.example" }, { prices: [] }, { timeout_ms: 0 }, { hostnames: ["NOPE"] }]) {
      await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body }), 400, "invalid_request");
    }
    const got = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect(got.body).toEqual(svc);
  });

  it("an unknown service → 404", async () => {
    await expectProblem(await call("/v1/services/svc_00000000000000000000", { method: "PATCH", key: prov.key, body: { name: "x" } }), 404, "not_found");
  });
});

describe("reads of missing services and bad paging", () => {
  it("GET an unknown service → 404 (provider and operator)", async () => {
    for (const key of [prov.key, OPERATOR]) {
      await expectProblem(await call("/v1/services/svc_00000000000000000000", { key }), 404, "not_found");
    }
  });

  it("public pricing of an unknown service → 404 problem+json", async () => {
    await expectProblem(await call("/v1/services/svc_00000000000000000000/pricing"), 404, "not_found");
  });

  it.each(["?cursor=!!!", "?limit=0", "?limit=101", "?limit=x"])("GET /v1/services%s → 400", async (q) => {
    await expectProblem(await call(`/v1/services${q}`, { key: prov.key }), 400, "invalid_request");
  });
});
