/**
 * Self-serve onboarding end to end, over real HTTP (`wrangler dev` → the demo origin): a provider
 * signs itself up and lists a service; an account is topped up as a payment processor's webhook
 * relay would; an agent calls through the SDK's client (sdk/src/agent.ts), reads what each call
 * cost, retries safely with an idempotency key, and gets the 402 as a typed error with the price
 * and what is available.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTollgateClient, TollgateCallError, TollgatePaymentError } from "../../sdk/src/index.ts";
import { gatewayWithOrigin, type Json } from "./harness.ts";

const w = gatewayWithOrigin({ OPEN_SIGNUP: "true" });

describe("end to end: sign up, top up, pay per call with the SDK's client", () => {
  it("a self-served provider's service is paid for through createTollgateClient; a 402 is a typed error", async () => {
    const { gw, origin, api } = w;
    const op = gw.operatorToken;

    // 1. The provider signs itself up (a retry with the same key answers the same key).
    const idem = randomUUID();
    const signup = await api("POST", "/v1/signup", null, { name: "Self-serve Translate", email: "ops@translate.example" }, { "idempotency-key": idem });
    expect(signup.status, JSON.stringify(signup.body)).toBe(201);
    const again = await api("POST", "/v1/signup", null, { name: "Self-serve Translate", email: "ops@translate.example" }, { "idempotency-key": idem });
    expect(again.body).toEqual(signup.body);
    const providerKey: string = signup.body.api_key;
    const slug = `onb-${Date.now().toString(36)}`;
    const svc = await api("POST", "/v1/services", providerKey, { slug, name: "Echo", origin: origin.url, prices: [{ per_call: 1_500 }] });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    // What the provider's origin verifies with: this gateway's published keys.
    const jwks = await fetch(svc.body.verification.jwks_url);
    expect(((await jwks.json()) as Json).keys.length).toBeGreaterThan(0);

    // 2. The account is topped up by a processor's event, delivered twice: credited once.
    const acct = (await api("POST", "/v1/accounts", op, { name: "payer", currency: "USD" })).body;
    const event = { "idempotency-key": "evt_1QxOnboardingE2E000001" };
    for (let i = 0; i < 2; i++)
      expect((await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: 4_000, reference: "stripe:evt_1QxOnboardingE2E000001" }, event)).status).toBe(
        201,
      );
    const agentKey: string = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "bot" })).body.key;

    // 3. The agent pays per call with the SDK's client.
    const tollgate = createTollgateClient({ baseUrl: gw.url, agentKey });
    const paid = await tollgate.call(slug, "/echo/hello?x=1");
    expect(paid.response.status).toBe(200);
    expect(((await paid.response.json()) as Json).path).toBe("/echo/hello");
    expect(paid).toMatchObject({ charge: 1_500, balance: 2_500, hold: null, pass: null, replayed: false, requestId: expect.stringMatching(/^req_/) });

    // The origin's own refusal is its response, uncharged (a 4xx releases the hold).
    const originRefusal = await tollgate.call(slug, "/status/404");
    expect(originRefusal.response.status).toBe(404);
    expect(originRefusal.charge).toBe(0);
    await originRefusal.response.body?.cancel();

    // By URL too, with an idempotency key: the retry is answered from the first call, charged once.
    const byUrl = `${gw.url}/s/${slug}`;
    const first = await tollgate.call(byUrl, "/echo/once", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
      idempotencyKey: "agent-call-1",
    });
    await first.response.body?.cancel();
    const retry = await tollgate.call(byUrl, "/echo/once", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
      idempotencyKey: "agent-call-1",
    });
    await retry.response.body?.cancel();
    expect(first).toMatchObject({ charge: 1_500, replayed: false });
    expect(retry).toMatchObject({ charge: 1_500, replayed: true, requestId: first.requestId });
    const journal = (await api("GET", `/v1/accounts/${acct.id}/transfers?limit=100`, acct.owner_key)).body.data as Json[];
    expect(
      journal
        .filter((t) => t.kind === "capture")
        .map((t) => t.request_id)
        .sort(),
    ).toEqual([paid.requestId, first.requestId].sort());

    // 1000 left, the call may cost 1500: 402 insufficient_funds, as the typed error, nothing charged.
    const refused = await tollgate.call(slug, "/echo/broke").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TollgatePaymentError);
    const err = refused as TollgatePaymentError;
    expect({ status: err.status, code: err.code, price: err.price, available: err.available, currency: err.currency }).toEqual({
      status: 402,
      code: "insufficient_funds",
      price: 1_500,
      available: 1_000,
      currency: "USD",
    });
    expect(err.requestId).toMatch(/^req_/);
    expect((await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body).toMatchObject({ available: 1_000, pending: 0 });

    // The gateway's other refusals are TollgateCallError, not a payment error.
    const unknown = await tollgate.call(`${slug}-missing`, "/echo").catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(TollgateCallError);
    expect(unknown).not.toBeInstanceOf(TollgatePaymentError);
    expect((unknown as TollgateCallError).code).toBe("unknown_service");
    const badKey = await createTollgateClient({ baseUrl: gw.url, agentKey: `${agentKey.slice(0, -1)}0` })
      .call(slug, "/echo")
      .catch((e: unknown) => e);
    expect((badKey as TollgateCallError).code).toBe("invalid_key");
  });

  it("a mandate's refusal is a TollgatePaymentError naming the mandate", async () => {
    const { gw, origin, api } = w;
    const op = gw.operatorToken;
    const prov = (await api("POST", "/v1/signup", null, { name: "Mandated", email: "m@mandated.example" })).body;
    const slug = `onb-m-${Date.now().toString(36)}`;
    expect((await api("POST", "/v1/services", prov.api_key, { slug, name: "Echo", origin: origin.url, prices: [{ per_call: 700 }] })).status).toBe(201);
    const acct = (await api("POST", "/v1/accounts", op, { name: "payer", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: 100_000 });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const mandate = (
      await api("POST", `/v1/accounts/${acct.id}/mandates`, acct.owner_key, { intent: "one call", max_total: 1_000, max_per_call: 1_000, valid_until: until })
    ).body;
    const key = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "bound", mandate_id: mandate.id })).body.key;
    const tollgate = createTollgateClient({ baseUrl: gw.url, agentKey: key });
    const ok = await tollgate.call(slug, "/echo");
    await ok.response.body?.cancel();
    expect(ok.charge).toBe(700);
    const refused = (await tollgate.call(slug, "/echo").catch((e: unknown) => e)) as TollgatePaymentError;
    expect(refused).toBeInstanceOf(TollgatePaymentError);
    expect({ status: refused.status, code: refused.code, mandateId: refused.mandateId }).toEqual({
      status: 403,
      code: "mandate_exceeded",
      mandateId: mandate.id,
    });
  });
});
