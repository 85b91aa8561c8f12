/** Custom hostnames as a provider and the operator see them: claims, challenges, activation, PATCH. */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, activateHostname, api, call, createProvider, createService, payer, unique } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

describe("a claimed hostname", () => {
  it("starts pending, with its own DNS TXT challenge to publish", async () => {
    const [a, b] = [`${unique("a")}.example.test`, `${unique("b")}.example.test`];
    const svc = await createService(prov.key, { hostnames: [b, a] });
    expect(svc.hostnames).toEqual(
      [a, b].map((hostname) => ({
        hostname,
        status: "pending",
        verification: { type: "dns_txt", name: `_tollgate-challenge.${hostname}`, value: expect.stringMatching(/^tollgate-verify=[0-9a-z]{32}$/) },
        activated_at: null,
      })),
    );
    expect(svc.hostnames[0].verification.value).not.toBe(svc.hostnames[1].verification.value);
    // The same claims on GET and in the list.
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.hostnames).toEqual(svc.hostnames);
    const listed = await api("/v1/services?limit=100", { key: prov.key });
    expect(listed.body.data.find((s: any) => s.id === svc.id).hostnames).toEqual(svc.hostnames);
  });

  it("the operator activates it: 200 with the claim, active; again: the same answer, nothing changes", async () => {
    const host = `${unique("op")}.example.test`;
    const svc = await createService(prov.key, { hostnames: [host] });
    const first = await api(`/v1/services/${svc.id}/hostnames/${host}/activate`, { method: "POST", key: OPERATOR });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ ...svc.hostnames[0], service_id: svc.id, status: "active", activated_at: expect.any(String) });
    const again = await api(`/v1/services/${svc.id}/hostnames/${host}/activate`, { method: "POST", key: OPERATOR });
    expect(again.body).toEqual(first.body);
    const got = await api(`/v1/services/${svc.id}`, { key: prov.key });
    expect(got.body.hostnames).toEqual([{ ...svc.hostnames[0], status: "active", activated_at: first.body.activated_at }]);
  });

  it("the hostname in the path is matched case-insensitively", async () => {
    const host = `${unique("case")}.example.test`;
    const svc = await createService(prov.key, { hostnames: [host] });
    const r = await api(`/v1/services/${svc.id}/hostnames/${host.toUpperCase()}/activate`, { method: "POST", key: OPERATOR });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ hostname: host, status: "active" });
  });
});

describe("PATCH hostnames keeps each listed claim as it is", () => {
  it("an active hostname listed again stays active and keeps routing; a new one is pending; an unlisted one is released", async () => {
    const [live, added, dropped] = [`${unique("live")}.example.test`, `${unique("added")}.example.test`, `${unique("dropped")}.example.test`];
    const svc = await createService(prov.key, { hostnames: [live, dropped], prices: [{ per_call: 3 }] });
    await activateHostname(svc.id, live);
    const activated = (await api(`/v1/services/${svc.id}`, { key: prov.key })).body.hostnames.find((h: any) => h.hostname === live);

    const r = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { hostnames: [added, live] } });
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.body.hostnames.map((h: any) => [h.hostname, h]));
    expect(Object.keys(byName).sort()).toEqual([added, live].sort());
    expect(byName[live]).toEqual(activated);
    expect(byName[added]).toMatchObject({ status: "pending", activated_at: null });

    const p = await payer(10);
    const res = await call("/echo", { base: `http://${live}`, key: p.agentKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("tollgate-charge")).toBe("3");
    await res.body?.cancel();

    // The released name is free for anyone.
    const other = await createProvider();
    const taken = await createService(other.key, { hostnames: [dropped] });
    expect(taken.hostnames).toMatchObject([{ hostname: dropped, status: "pending" }]);
  });

  it("a PATCH without hostnames leaves them alone", async () => {
    const host = `${unique("keep")}.example.test`;
    const svc = await createService(prov.key, { hostnames: [host] });
    await activateHostname(svc.id, host);
    const r = await api(`/v1/services/${svc.id}`, { method: "PATCH", key: prov.key, body: { name: "Renamed" } });
    expect(r.body.hostnames).toMatchObject([{ hostname: host, status: "active" }]);
  });
});

describe("/openapi.json", () => {
  it("documents the activation route, the claim shape and the service's currency", async () => {
    const doc = (await api("/openapi.json")).body;
    expect(doc.paths["/v1/services/{id}/hostnames/{hostname}/activate"].post.responses).toHaveProperty("200");
    const schemas = doc.components.schemas;
    expect(Object.keys(schemas.HostnameClaim.properties).sort()).toEqual(["activated_at", "hostname", "status", "verification"]);
    expect(schemas.HostnameClaim.properties.status.enum).toEqual(["pending", "active"]);
    expect(schemas.Service.properties.hostnames.items).toEqual({ $ref: "#/components/schemas/HostnameClaim" });
    expect(schemas.Service.required).toContain("currency");
    expect(schemas.Pricing.required).toContain("currency");
    expect(schemas.ServiceCreate.properties.currency.pattern).toBe("^[A-Z]{3}$");
  });
});
