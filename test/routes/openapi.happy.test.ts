import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES, statusOf } from "../../worker/errors";
import { api } from "./helpers";

/** Every path and method of the public contract (the endpoint table in docs/API.md). */
const CONTRACT: [string, string][] = [
  ["post", "/v1/providers"],
  ["post", "/v1/accounts"],
  ["post", "/v1/accounts/{id}/credits"],
  ["post", "/v1/services"],
  ["get", "/v1/services"],
  ["get", "/v1/services/{id}"],
  ["patch", "/v1/services/{id}"],
  ["get", "/v1/services/{id}/pricing"],
  ["post", "/v1/accounts/{id}/agent-keys"],
  ["delete", "/v1/accounts/{id}/agent-keys/{key_id}"],
  ["get", "/v1/accounts/{id}/balance"],
  ["get", "/v1/accounts/{id}/transfers"],
  ["get", "/v1/me"],
  ["get", "/s/{slug}/{path}"],
  ["post", "/s/{slug}/{path}"],
];

const PUBLIC = new Set([
  "get /v1/services/{id}/pricing",
  "get /.well-known/http-message-signatures-directory",
  "get /.well-known/jwks.json",
  "get /v1/catalog",
  "post /v1/signup",
]);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

let doc: any;
beforeAll(async () => {
  const r = await api("/openapi.json");
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  doc = r.body;
});

function operations(): [string, string, any][] {
  const out: [string, string, any][] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const method of METHODS) if (item[method]) out.push([method, path, item[method]]);
  }
  return out;
}

describe("/openapi.json", () => {
  it("is an OpenAPI 3.1 document with info and a bearer scheme", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.Problem).toBeDefined();
  });

  it.each(CONTRACT)("documents %s %s", (method, path) => {
    expect(doc.paths[path], path).toBeDefined();
    expect(doc.paths[path][method], `${method} ${path}`).toBeDefined();
  });

  it("every operation has a summary and responses; path parameters are declared", () => {
    for (const [method, path, op] of operations()) {
      const where = `${method} ${path}`;
      expect(op.summary, where).toEqual(expect.any(String));
      expect(Object.keys(op.responses ?? {}).length, where).toBeGreaterThan(0);
      const declared = new Set([...(op.parameters ?? []), ...(doc.paths[path].parameters ?? [])].filter((p: any) => p.in === "path").map((p: any) => p.name));
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) expect(declared.has(name), `${where}: {${name}}`).toBe(true);
    }
  });

  it("protected operations name the bearer scheme; public pricing does not", () => {
    for (const [method, path, op] of operations()) {
      const where = `${method} ${path}`;
      if (PUBLIC.has(where)) expect(op.security ?? doc.security, where).toBeUndefined();
      else expect(op.security ?? doc.security, where).toContainEqual({ bearer: [] });
    }
  });

  it("error responses are application/problem+json Problems", () => {
    let seen = 0;
    for (const [method, path, op] of operations()) {
      for (const [status, response] of Object.entries<any>(op.responses)) {
        if (Number(status) < 400) continue;
        seen++;
        const schema = response.content?.["application/problem+json"]?.schema;
        expect(schema, `${method} ${path} ${status}`).toEqual({ $ref: "#/components/schemas/Problem" });
      }
    }
    expect(seen).toBeGreaterThan(20);
  });

  it("Problem.code is the closed enum of every error code the Worker answers with", () => {
    const code = doc.components.schemas.Problem.properties.code;
    expect(code.type).toBe("string");
    for (const c of ERROR_CODES) {
      expect(statusOf(c), c).toBeGreaterThanOrEqual(400);
      expect(code.enum, c).toContain(c);
    }
    expect([...code.enum].sort()).toEqual([...ERROR_CODES].sort());
  });

  it("the proxy documents the agent key as x-api-key too, its tollgate-* and payment response headers", () => {
    expect(doc.components.securitySchemes.api_key).toEqual({ type: "apiKey", in: "header", name: "x-api-key" });
    const op = doc.paths["/s/{slug}/{path}"].get;
    expect(op.security).toEqual([{ bearer: [] }, { api_key: [] }]);
    expect(Object.keys(op.responses["200"].headers)).toEqual([
      "tollgate-request-id",
      "tollgate-charge",
      "tollgate-balance",
      "tollgate-refund",
      "tollgate-pass",
      "payment-response",
      "payment-receipt",
    ]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "402", "404", "502", "504"]));
    // The 402's offer, for x402 and MPP clients.
    expect(Object.keys(op.responses["402"].headers)).toEqual(["payment-required", "www-authenticate"]);
  });

  it("money is documented as integers", () => {
    const balance = doc.components.schemas.Balance;
    for (const field of ["available", "pending", "posted"]) expect(balance.properties[field].type).toBe("integer");
    expect(doc.components.schemas.CreditCreate.properties.amount.type).toBe("integer");
  });
});
