/**
 * MPP end to end, over real HTTP (`wrangler dev` → the demo origin), with the real `mppx` client
 * and the SDK's `tollgate` method: 402 → credential → 200 with `Payment-Receipt`, charged once;
 * the client's own cap refuses a dearer offer before paying.
 */
import { Receipt } from "mppx";
import { Mppx } from "mppx/client";
import { describe, expect, it } from "vitest";
import { tollgateMpp } from "../../sdk/src/mpp.ts";
import { eventually, gatewayFetch, gatewayWithOrigin } from "./harness.ts";

const w = gatewayWithOrigin();

describe("end to end: an MPP client pays a Tollgate service from a prepaid account", () => {
  it("pays the challenge with an agent key, gets the resource and a receipt, and is charged once", async () => {
    const { gw, origin, api } = w;
    const op = gw.operatorToken;
    const prov = (await api("POST", "/v1/providers", op, { name: "MPP seller" })).body;
    const slug = `mpp-${Date.now().toString(36)}`;
    const svc = await api("POST", "/v1/services", op, { slug, name: "Paid echo", origin: origin.url, prices: [{ per_call: 3_100 }], provider_id: prov.id });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    const acct = (await api("POST", "/v1/accounts", op, { name: "payer", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: 50_000 });
    const key = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "mpp bot" })).body;

    const mppx = Mppx.create({ methods: [tollgateMpp({ key: key.key })], polyfill: false, fetch: gatewayFetch });
    const res = await mppx.fetch(`${gw.url}/s/${slug}/echo/quote`, {
      method: "POST",
      body: JSON.stringify({ symbol: "ACME" }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status, `${await res.clone().text()}\n${gw.logs().slice(-4_000)}`).toBe(200);
    expect((await res.json()) as object).toMatchObject({ method: "POST", path: "/echo/quote", body: JSON.stringify({ symbol: "ACME" }) });
    const requestId = res.headers.get("tollgate-request-id");
    const receipt = Receipt.fromResponse(res);
    expect(receipt).toMatchObject({ method: "tollgate", reference: requestId, status: "success" });

    await eventually(
      () => api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key),
      (r) => expect(r.body).toMatchObject({ posted: 50_000 - 3_100, available: 50_000 - 3_100, pending: 0 }),
    );
    const transfers = await api("GET", `/v1/accounts/${acct.id}/transfers`, acct.owner_key);
    expect(transfers.body.data.filter((t: { kind: string }) => t.kind === "capture")).toMatchObject([{ amount: 3_100, request_id: requestId }]);

    // A client capped below the price refuses to pay: nothing is charged.
    const capped = Mppx.create({ methods: [tollgateMpp({ key: key.key, maxAmount: 3_000 })], polyfill: false, fetch: gatewayFetch });
    await expect(capped.fetch(`${gw.url}/s/${slug}/echo/quote`)).rejects.toThrow(/above maxAmount/);
    const after = await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key);
    expect(after.body).toMatchObject({ posted: 50_000 - 3_100, available: 50_000 - 3_100 });
  });
});
