/**
 * The public catalog (GET /v1/catalog): only services their provider listed, without a key,
 * paginated; and the `listed` field on create and PATCH.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, createProvider, createService, expectProblem, call, unique, type Provider } from "./helpers";

let prov: Provider;
beforeAll(async () => {
  prov = await createProvider();
});

/** Every catalog entry, following next_cursor from the first page. */
async function wholeCatalog(limit = 2): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const r = await api(`/v1/catalog?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(r.status).toBe(200);
    out.push(...r.body.data);
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

describe("the listed field", () => {
  it("defaults to false; is set on create and changed by PATCH", async () => {
    const plain = await createService(prov.key);
    expect(plain.listed).toBe(false);
    const listed = await createService(prov.key, { listed: true });
    expect(listed.listed).toBe(true);
    const r = await api(`/v1/services/${plain.id}`, { method: "PATCH", key: prov.key, body: { listed: true } });
    expect(r.status).toBe(200);
    expect(r.body.listed).toBe(true);
    expect((await api(`/v1/services/${plain.id}`, { key: prov.key })).body.listed).toBe(true);
  });

  it("must be a boolean: 400 invalid_request naming listed, nothing created or changed", async () => {
    const svc = await createService(prov.key);
    for (const listed of ["yes", 1, null]) {
      const body = await expectProblem(await call(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { listed } }), 400, "invalid_request");
      expect(body.errors.map((e: { path: string }) => e.path)).toContain("listed");
    }
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.listed).toBe(false);
    const slug = unique("svc");
    await expectProblem(
      await call("/v1/services", { key: prov.key, body: { slug, name: "x", origin: svc.origin, prices: [{ per_call: 1 }], listed: "true" } }),
      400,
      "invalid_request",
    );
    const all = await api("/v1/services?limit=100", { key: OPERATOR });
    expect(all.body.data.map((s: { slug: string }) => s.slug)).not.toContain(slug);
  });
});

describe("GET /v1/catalog", () => {
  it("public: no key needed, and a key changes nothing", async () => {
    const anon = await api("/v1/catalog?limit=100");
    expect(anon.status).toBe(200);
    const withKey = await api("/v1/catalog?limit=100", { key: prov.key });
    expect(withKey.status).toBe(200);
    expect(withKey.body).toEqual(anon.body);
  });

  it("shows listed services with slug, name, currency, prices, protocol and plans, and never unlisted ones or private fields", async () => {
    const listed = await createService(prov.key, { listed: true, currency: "EUR", plans: [{ name: "day", price: 9, duration_s: 86_400 }] });
    const hidden = await createService(prov.key);
    const unlisted = await createService(prov.key, { listed: true });
    expect((await api(`/v1/services/${unlisted.id}`, { method: "PATCH", key: prov.key, body: { listed: false } })).status).toBe(200);
    const all = await wholeCatalog(2);
    const ids = all.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length); // pages neither repeat nor skip
    expect(ids).toContain(listed.id);
    expect(ids).not.toContain(hidden.id);
    expect(ids).not.toContain(unlisted.id);
    expect(all.find((s) => s.id === listed.id)).toEqual({
      id: listed.id,
      slug: listed.slug,
      name: listed.name,
      currency: "EUR",
      prices: listed.prices,
      protocol: "http",
      plans: listed.plans,
    });
    expect(ids).toEqual([...ids].sort());
  });

  it("a bad limit or cursor: 400", async () => {
    await expectProblem(await call("/v1/catalog?limit=0"), 400, "invalid_request");
    await expectProblem(await call("/v1/catalog?cursor=bm9wZQ"), 400, "invalid_request");
  });
});
