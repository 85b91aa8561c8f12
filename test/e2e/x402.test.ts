/**
 * HTTP 402 end to end, over real HTTP (`wrangler dev` → the demo origin), with the real x402
 * client: `@x402/fetch` with the SDK's `tollgate-prepaid` scheme meets a 402, pays it with an
 * agent key and gets the resource, charged once; the same payment sent again, or altered, is
 * refused and charges nothing.
 */
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { describe, expect, it } from "vitest";
import { decodeHeader, encodeHeader } from "../../core/x402/headers.ts";
import { tollgatePrepaid } from "../../sdk/src/x402.ts";
import { eventually, gatewayWithOrigin } from "./harness.ts";

const w = gatewayWithOrigin();

describe("end to end: an x402 client pays a Tollgate service from a prepaid account", () => {
  it("402 → pay → 200 with PAYMENT-RESPONSE, charged once; a replayed or altered payment is refused", async () => {
    const { gw, origin, api } = w;
    const op = gw.operatorToken;
    const prov = (await api("POST", "/v1/providers", op, { name: "x402 seller" })).body;
    const slug = `x402-${Date.now().toString(36)}`;
    const svc = await api("POST", "/v1/services", op, { slug, name: "Paid echo", origin: origin.url, prices: [{ per_call: 2_500 }], provider_id: prov.id });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    const acct = (await api("POST", "/v1/accounts", op, { name: "payer", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: 100_000 });
    const key = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "x402 bot" })).body;

    // Every request the client sends, as the gateway received it (to replay and alter below).
    const sent: Request[] = [];
    const recording: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      sent.push(request.clone());
      return fetch(request);
    };
    const client = new x402Client().register("tollgate:*", tollgatePrepaid({ key: key.key }));
    const paidFetch = wrapFetchWithPayment(recording, client);

    const url = `${gw.url}/s/${slug}/echo/report?q=weather`;
    const res = await paidFetch(url);
    expect(res.status).toBe(200);
    expect((await res.json()) as object).toMatchObject({ path: "/echo/report", query: "?q=weather" });
    expect(res.headers.get("tollgate-charge")).toBe("2500");
    const requestId = res.headers.get("tollgate-request-id");
    expect(decodeHeader(res.headers.get("payment-response"))).toEqual({
      success: true,
      transaction: requestId,
      network: "tollgate:prepaid",
      payer: acct.id,
      amount: "2500",
    });
    // The client's flow was exactly: the bare request, then one paid retry.
    expect(sent.map((r) => r.headers.has("payment-signature"))).toEqual([false, true]);

    const settled = 100_000 - 2_500;
    const transfers = await eventually(
      () => api("GET", `/v1/accounts/${acct.id}/transfers`, acct.owner_key),
      (r) => expect(r.body.data.filter((t: { kind: string }) => t.kind === "capture")).toHaveLength(1),
    );
    expect(transfers.body.data[0]).toMatchObject({ kind: "capture", amount: 2_500, request_id: requestId, service_id: svc.body.id });

    // The same payment again: the offer already paid for a call.
    const payment = sent[1]?.headers.get("payment-signature") as string;
    const replayed = await fetch(url, { headers: { "payment-signature": payment } });
    expect(replayed.status).toBe(409);
    expect(await replayed.json()).toMatchObject({ code: "payment_replayed", request_id: requestId });

    // The same payment with a lower amount: refused, with a fresh offer to pay instead.
    const doc = decodeHeader(payment) as { accepted: { amount: string } };
    const altered = encodeHeader({ ...doc, accepted: { ...doc.accepted, amount: "1" } });
    const cheap = await fetch(url, { headers: { "payment-signature": altered } });
    expect(cheap.status).toBe(402);
    expect(await cheap.json()).toMatchObject({ code: "payment_invalid" });
    expect(decodeHeader(cheap.headers.get("payment-required"))).toMatchObject({ accepts: [{ amount: "2500" }] });

    const after = await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key);
    expect(after.body).toMatchObject({ posted: settled, available: settled, pending: 0 });
  });
});
