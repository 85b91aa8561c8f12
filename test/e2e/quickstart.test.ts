/**
 * The README quickstart, end to end, against the real gateway (`wrangler dev`, local D1 and
 * Durable Objects) and the demo origin, over plain HTTP: provider → service → account → top-up
 * → agent key → paid calls, with exact balances, the journal, and the calls refused without
 * charge. It continues in quickstart-ledger.test.ts (origin failures, throughput, 402 and the
 * export of the journal to D1's double-entry ledger).
 */
import { describe, expect, it } from "vitest";
import {
  api,
  balanceOf,
  call,
  expectProblem,
  gw,
  type Json,
  origin,
  PRICE,
  payTranslate,
  TOP_UP,
  TRANSLATE_PRICES,
  withQuickstartGateway,
} from "./quickstart-fixtures.ts";

withQuickstartGateway();

describe("quickstart against wrangler dev", () => {
  let provider: Json;
  let service: Json;
  let account: Json;
  let agent: Json;
  let credit: Json;
  const requestIds: string[] = [];
  let expected = { currency: "USD", available: 0, pending: 0, posted: 0 };

  const balance = (acct: Json = account) => balanceOf(acct);
  const pay = (body: Json, headers?: Record<string, string>) => payTranslate(agent.key, body, headers);
  const spend = (amount: number) => {
    expected = { ...expected, available: expected.available - amount, posted: expected.posted - amount };
  };

  it("answers GET / and serves its OpenAPI document", async () => {
    expect((await api("GET", "/", null)).body).toEqual({ name: "tollgate", docs: "/openapi.json" });
    const doc = await api("GET", "/openapi.json", null);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/v1/providers", "/v1/services", "/v1/accounts/{id}/balance"]));
  });

  it("the operator creates a provider", async () => {
    expectProblem(await api("POST", "/v1/providers", null, { name: "Acme AI" }), 401, "unauthorized");
    expectProblem(await api("POST", "/v1/providers", "not-the-token", { name: "Acme AI" }), 401, "invalid_key");
    const res = await api("POST", "/v1/providers", gw.operatorToken, { name: "Acme AI" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^prov_/), name: "Acme AI", api_key: expect.stringMatching(/^tg_prov_/) });
    provider = res.body;
  });

  it("the provider creates a priced service in front of the demo origin", async () => {
    const prices = TRANSLATE_PRICES;
    expectProblem(await api("POST", "/v1/services", provider.api_key, { slug: "Not A Slug", name: "x", origin: origin.url, prices }), 400, "invalid_request");
    const res = await api("POST", "/v1/services", provider.api_key, { slug: "translate", name: "Translate", origin: origin.url, prices });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^svc_/),
      provider_id: provider.id,
      slug: "translate",
      origin: origin.url,
      currency: "USD",
      hostnames: [],
      prices,
      timeout_ms: 30_000,
    });
    service = res.body;
    expectProblem(await api("POST", "/v1/services", provider.api_key, { slug: "translate", name: "again", origin: origin.url, prices }), 409, "conflict");
    // What a call costs is public.
    const pricing = await api("GET", `/v1/services/${service.id}/pricing`, null);
    expect(pricing.status).toBe(200);
    expect(pricing.body).toMatchObject({ id: service.id, slug: "translate", currency: "USD", prices });
  });

  it("the operator opens a USD account; it starts empty", async () => {
    const res = await api("POST", "/v1/accounts", gw.operatorToken, { name: "Research team", currency: "USD" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^acct_/), currency: "USD", owner_key: expect.stringMatching(/^tg_owner_/) });
    account = res.body;
    expect(await balance()).toEqual(expected);
    // A provider key does not reach an account: 404, as if it did not exist.
    expectProblem(await api("GET", `/v1/accounts/${account.id}/balance`, provider.api_key), 404, "not_found");
  });

  it("the operator tops it up, idempotently", async () => {
    const topUp = { amount: TOP_UP, reference: "invoice-0001" };
    const first = await api("POST", `/v1/accounts/${account.id}/credits`, gw.operatorToken, topUp, { "idempotency-key": "topup-0001" });
    expect(first.status).toBe(201);
    expected = { currency: "USD", available: TOP_UP, pending: 0, posted: TOP_UP };
    expect(first.body).toEqual({
      transfer: expect.objectContaining({
        id: expect.stringMatching(/^tr_/),
        seq: 1,
        kind: "credit",
        amount: TOP_UP,
        fee: 0,
        currency: "USD",
        reference: "invoice-0001",
      }),
      balance: expected,
    });
    credit = first.body.transfer;

    const replay = await api("POST", `/v1/accounts/${account.id}/credits`, gw.operatorToken, topUp, { "idempotency-key": "topup-0001" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);

    expectProblem(
      await api("POST", `/v1/accounts/${account.id}/credits`, gw.operatorToken, { amount: 5 }, { "idempotency-key": "topup-0001" }),
      422,
      "idempotency_mismatch",
    );
    expectProblem(await api("POST", `/v1/accounts/${account.id}/credits`, account.owner_key, topUp), 403, "forbidden");
    expect(await balance()).toEqual(expected);
  });

  it("the owner issues an agent key", async () => {
    const res = await api("POST", `/v1/accounts/${account.id}/agent-keys`, account.owner_key, { name: "translator-bot" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^ak_/),
      name: "translator-bot",
      account_id: account.id,
      key: expect.stringMatching(/^tg_agent_/),
      revoked_at: null,
    });
    agent = res.body;
    const me = await api("GET", "/v1/me", agent.key);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ account_id: account.id, key: { id: agent.id, name: "translator-bot" }, balance: expected });
  });

  it("a paid call is forwarded, charged and labelled", async () => {
    const res = await pay({ text: "hello" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ translation: "olleh", characters: 5 });
    spend(PRICE);
    expect(res.headers.get("tollgate-charge")).toBe(String(PRICE));
    expect(res.headers.get("tollgate-balance")).toBe(String(expected.available));
    const requestId = res.headers.get("tollgate-request-id") ?? "";
    expect(requestId).toMatch(/^req_/);
    requestIds.push(requestId);
    expect(await balance()).toEqual({ currency: "USD", available: TOP_UP - PRICE, pending: 0, posted: TOP_UP - PRICE });

    // The same key works as x-api-key (how the Anthropic SDK sends it).
    const again = await pay({ text: "abc" }, { "x-api-key": agent.key });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ translation: "cba", characters: 3 });
    spend(PRICE);
    expect(again.headers.get("tollgate-charge")).toBe(String(PRICE));
    expect(again.headers.get("tollgate-balance")).toBe(String(expected.available));
    requestIds.push(again.headers.get("tollgate-request-id") ?? "");
    expect(await balance()).toEqual(expected);
    expect((await api("GET", "/v1/me", agent.key)).body.balance).toEqual(expected);
  });

  it("the journal lists the top-up and both captures, newest first", async () => {
    const res = await api("GET", `/v1/accounts/${account.id}/transfers`, account.owner_key);
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    const capture = (seq: number, requestId: string | undefined) =>
      expect.objectContaining({
        id: expect.stringMatching(/^tr_/),
        seq,
        kind: "capture",
        amount: PRICE,
        fee: 0,
        currency: "USD",
        hold_id: expect.stringMatching(/^hold_/),
        request_id: requestId,
        service_id: service.id,
        provider_id: provider.id,
        agent_key_id: agent.id,
        reference: null,
        created_at: expect.any(String),
      });
    expect(res.body.data).toEqual([capture(3, requestIds[1]), capture(2, requestIds[0]), credit]);

    // Pagination: one at a time, with the opaque cursor.
    const page1 = await api("GET", `/v1/accounts/${account.id}/transfers?limit=2`, account.owner_key);
    expect(page1.body.data.map((t: Json) => t.seq)).toEqual([3, 2]);
    const page2 = await api("GET", `/v1/accounts/${account.id}/transfers?limit=2&cursor=${page1.body.next_cursor}`, account.owner_key);
    expect(page2.body.data.map((t: Json) => t.seq)).toEqual([1]);
    expect(page2.body.next_cursor).toBeNull();
  });

  it("refuses calls it cannot price or authorize, without charge", async () => {
    const unpriced = await call(`/s/translate/v1/translate`, { headers: { authorization: `Bearer ${agent.key}` } });
    expect(unpriced.status).toBe(404);
    expect(unpriced.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(await unpriced.json()).toMatchObject({ code: "no_price" });

    const unknown = await call(`/s/no-such-service/v1/translate`, { method: "POST", headers: { authorization: `Bearer ${agent.key}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "unknown_service" });

    // No key: the price is offered (HTTP 402 for x402 and MPP clients), nothing is charged.
    const noKey = await pay({ text: "x" }, {});
    expect(noKey.status).toBe(402);
    expect(noKey.headers.get("payment-required")).toBeTruthy();
    expect(await noKey.json()).toMatchObject({ code: "payment_required" });

    const forged = `tg_agent_${account.id.slice(5)}_${"0".repeat(32)}`;
    const badKey = await pay({ text: "x" }, { authorization: `Bearer ${forged}` });
    expect(badKey.status).toBe(401);
    expect(await badKey.json()).toMatchObject({ code: "invalid_key" });

    expect(await balance()).toEqual(expected);
  });

  it("refuses an account in another currency than the service's prices, before anything moves", async () => {
    const yen = await api("POST", "/v1/accounts", gw.operatorToken, { name: "Tokyo team", currency: "JPY" });
    const yenAgent = await api("POST", `/v1/accounts/${yen.body.id}/agent-keys`, yen.body.owner_key, { name: "bot" });
    const refused = await pay({ text: "x" }, { authorization: `Bearer ${yenAgent.body.key}` });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: "currency_mismatch", account_currency: "JPY", service_currency: "USD" });
    // Refused on its currency, not its (empty) balance; nothing was held.
    expect(await balance(yen.body)).toEqual({ currency: "JPY", available: 0, pending: 0, posted: 0 });
    expect(await balance()).toEqual(expected);
  });
});
