import { env, exports } from "cloudflare:workers";
import { inject, expect, it } from "vitest";

it("runs a paid call end to end inside workerd", async () => {
  const op = { authorization: "Bearer test-operator-token-0123456789", "content-type": "application/json" };
  const call = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`http://127.0.0.1${path}`, init));
  const prov = await (await call("/v1/providers", { method: "POST", headers: op, body: JSON.stringify({ name: "p" }) })).json<any>();
  const svcRes = await call("/v1/services", {
    method: "POST",
    headers: { authorization: `Bearer ${prov.api_key}`, "content-type": "application/json" },
    body: JSON.stringify({ slug: "echo", name: "Echo", origin: inject("originUrl"), prices: [{ per_call: 2000 }] }),
  });
  expect(svcRes.status).toBe(201);
  const acct = await (await call("/v1/accounts", { method: "POST", headers: op, body: JSON.stringify({ name: "a", currency: "USD" }) })).json<any>();
  const credit = await call(`/v1/accounts/${acct.id}/credits`, { method: "POST", headers: op, body: JSON.stringify({ amount: 10000 }) });
  expect(credit.status).toBe(201);
  const key = await (await call(`/v1/accounts/${acct.id}/agent-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${acct.owner_key}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "bot" }),
  })).json<any>();
  const res = await call("/s/echo/echo/hi?x=1", { headers: { authorization: `Bearer ${key.key}` } });
  const body = await res.json<any>();
  expect(res.status).toBe(200);
  expect(body.path).toBe("/echo/hi");
  expect(res.headers.get("tollgate-charge")).toBe("2000");
  expect(res.headers.get("tollgate-balance")).toBe("8000");
  void env;
});
