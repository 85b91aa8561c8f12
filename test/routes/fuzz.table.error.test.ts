// The fuzzed endpoints (fuzz.endpoints.ts, one test file per family) are every JSON endpoint.
import { beforeAll, describe, expect, it } from "vitest";
import { PROTECTED_ROUTES } from "./auth.shared";
import { ENDPOINTS } from "./fuzz.endpoints";
import { type OpenApiDoc, openApi } from "./fuzz.shared";

let doc: OpenApiDoc;

beforeAll(async () => {
  doc = await openApi();
});

describe("generated junk on every JSON endpoint → 4xx problem+json, nothing changes", () => {
  it("the table covers exactly the JSON endpoints /openapi.json documents (and the auth suite's)", () => {
    const documented: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      // /mcp speaks JSON-RPC (its errors are JSON-RPC errors, not problems): mcp-server.error.test.ts covers its bad input.
      if (path === "/mcp") continue;
      for (const [method, op] of Object.entries(item)) if (op.requestBody?.content?.["application/json"]) documented.push(`${method} ${path}`);
    }
    expect(documented.sort()).toEqual(Object.keys(ENDPOINTS).sort());
    for (const r of PROTECTED_ROUTES.filter((r) => ["POST", "PATCH", "PUT"].includes(r.method) && r.body && r.name !== "/mcp")) {
      expect(
        Object.keys(ENDPOINTS).some((op) => op.startsWith(`${r.method.toLowerCase()} ${r.name.split(" ")[0]}`)),
        r.name,
      ).toBe(true);
    }
  });
});
