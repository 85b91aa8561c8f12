/** Activation requests that name no claim: problem+json, and no claim anywhere changes. */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, createService, expectProblem, unique } from "./helpers";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const activate = (serviceId: string, hostname: string) => call(`/v1/services/${serviceId}/hostnames/${hostname}/activate`, { method: "POST", key: OPERATOR });

describe("POST /v1/services/{id}/hostnames/{hostname}/activate", () => {
  it("an unknown service → 404 not_found", async () => {
    await expectProblem(await activate("svc_00000000000000000000", "x.example.test"), 404, "not_found");
  });

  it("a hostname the service has not claimed → 404 not_found", async () => {
    const svc = await createService(prov.key);
    await expectProblem(await activate(svc.id, `${unique("none")}.example.test`), 404, "not_found");
  });

  it("another service's hostname → 404, and that claim stays pending", async () => {
    const host = `${unique("theirs")}.example.test`;
    const theirs = await createService(prov.key, { hostnames: [host] });
    const mine = await createService(prov.key);
    await expectProblem(await activate(mine.id, host), 404, "not_found");
    expect((await api(`/v1/services/${theirs.id}`, { key: prov.key })).body.hostnames).toEqual(theirs.hostnames);
  });

  it("a path parameter over its limit → 400 invalid_request", async () => {
    const svc = await createService(prov.key);
    await expectProblem(await activate(svc.id, `${"a".repeat(250)}.example.test`), 400, "invalid_request");
  });

  it("GET on the activation path is no endpoint (404)", async () => {
    const svc = await createService(prov.key, { hostnames: [`${unique("get")}.example.test`] });
    await expectProblem(await call(`/v1/services/${svc.id}/hostnames/${svc.hostnames[0].hostname}/activate`, { key: OPERATOR }), 404, "not_found");
    expect((await api(`/v1/services/${svc.id}`, { key: prov.key })).body.hostnames[0].status).toBe("pending");
  });
});
