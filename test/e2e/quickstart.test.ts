/**
 * The README quickstart, end to end, against the real gateway (`wrangler dev`, local D1 and
 * Durable Objects) and the demo origin, over plain HTTP: provider → service → account → top-up
 * → agent key → paid calls, with exact balances, the journal, the charge policy on origin
 * failures, 402, and the export of the journal to D1's double-entry ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, type RunningOrigin } from "../../demo/origin.ts";
import { eventually, startGateway, type Gateway } from "./harness.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** No single request may hang the suite. */
const REQUEST_TIMEOUT_MS = 15_000;

let gw: Gateway;
let origin: RunningOrigin;

beforeAll(async () => {
  [gw, origin] = await Promise.all([startGateway(), startOrigin(0)]);
});

afterAll(async () => {
  await Promise.all([gw?.stop(), origin?.close()]);
});

/**
 * fetch on the gateway, with a deadline. wrangler dev's local proxy sometimes restarts the
 * runtime once early in a session on this machine and answers "Your worker restarted
 * mid-request" (text, not the Worker's answer): such a request never reached the Worker, so it
 * is sent again. Any answer from the Worker itself is returned as is.
 */
async function call(path: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${gw.url}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init });
    if (attempt >= 3 || res.headers.get("content-type")?.includes("json") || res.status < 500) return res;
    const text = await res.clone().text();
    if (!text.startsWith("Your worker restarted mid-request")) return res;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function api(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await call(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Json };
}

/** Expects an RFC 9457 problem with this status and code. */
function expectProblem(res: { status: number; headers: Headers; body: Json }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

describe("quickstart against wrangler dev", () => {
  const PRICE = 2000;
  const STATUS_PRICE = 500;
  const TOP_UP = 1_000_000;

  let provider: Json;
  let service: Json;
  let account: Json;
  let agent: Json;
  let credit: Json;
  const requestIds: string[] = [];
  let expected = { currency: "USD", available: 0, pending: 0, posted: 0 };

  const balance = async (acct: Json = account) => (await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body;
  const pay = (body: Json, headers: Record<string, string> = { authorization: `Bearer ${agent.key}` }) =>
    call("/s/translate/v1/translate", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
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
    const prices = [
      { match: { method: "POST", path: "/v1/*" }, per_call: PRICE },
      { match: { method: "GET", path: "/status/*" }, per_call: STATUS_PRICE },
    ];
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

  it("an origin 5xx becomes 502 and costs nothing; a 4xx passes through and costs nothing", async () => {
    const failed = await call(`/s/translate/status/500`, { headers: { authorization: `Bearer ${agent.key}` } });
    expect(failed.status).toBe(502);
    expect(failed.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(failed.headers.get("tollgate-charge")).toBe("0");
    expect(failed.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(await failed.json()).toMatchObject({ status: 502, code: "origin_error", origin_status: 500 });

    const refused = await call(`/s/translate/status/404`, { headers: { authorization: `Bearer ${agent.key}` } });
    expect(refused.status).toBe(404);
    expect(refused.headers.get("content-type")).toBe("application/json");
    expect(await refused.json()).toEqual({ status: 404 });
    expect(refused.headers.get("tollgate-charge")).toBe("0");
    expect(refused.headers.get("tollgate-balance")).toBe(String(expected.available));

    // The holds are voided right after the response; then nothing is pending and nothing was spent.
    await eventually(balance, (b) => expect(b).toEqual(expected));

    // A 2xx on the same rule is charged its own price.
    const ok = await call(`/s/translate/status/200`, { headers: { authorization: `Bearer ${agent.key}` } });
    expect(ok.status).toBe(200);
    spend(STATUS_PRICE);
    expect(ok.headers.get("tollgate-charge")).toBe(String(STATUS_PRICE));
    expect(ok.headers.get("tollgate-balance")).toBe(String(expected.available));
    await ok.arrayBuffer();
    expect(await balance()).toEqual(expected);

    const journal = await api("GET", `/v1/accounts/${account.id}/transfers`, account.owner_key);
    expect(journal.body.data.map((t: Json) => [t.seq, t.kind, t.amount])).toEqual([
      [4, "capture", STATUS_PRICE],
      [3, "capture", PRICE],
      [2, "capture", PRICE],
      [1, "credit", TOP_UP],
    ]);
  });

  it("an origin that times out or cannot be reached costs nothing (504, 502)", async () => {
    const make = async (slug: string, originUrl: string, timeout_ms: number) => {
      const res = await api("POST", "/v1/services", provider.api_key, {
        slug,
        name: slug,
        origin: originUrl,
        timeout_ms,
        prices: [{ per_call: PRICE }],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    };
    await make("sleepy", origin.url, 300);
    await make("gone", "http://127.0.0.1:9", 5_000);

    const slow = await call(`/s/sleepy/slow?ms=3000`, { headers: { authorization: `Bearer ${agent.key}` } });
    expect(slow.status).toBe(504);
    expect(slow.headers.get("tollgate-charge")).toBe("0");
    expect(await slow.json()).toMatchObject({ code: "origin_timeout" });

    const gone = await call(`/s/gone/anything`, { headers: { authorization: `Bearer ${agent.key}` } });
    expect(gone.status).toBe(502);
    expect(gone.headers.get("tollgate-charge")).toBe("0");
    expect(await gone.json()).toMatchObject({ code: "origin_error" });

    await eventually(balance, (b) => expect(b).toEqual(expected));
  });

  it("measures local paid calls per second (200 calls, 8 at a time)", async () => {
    const total = 200;
    const concurrency = 8;
    let next = 0;
    let charged = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          const res = await pay({ text: "benchmark" });
          await res.arrayBuffer();
          expect(res.status).toBe(200);
          charged += Number(res.headers.get("tollgate-charge"));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `[e2e] ${total} paid calls through wrangler dev, concurrency ${concurrency}: ${(total / seconds).toFixed(0)} calls/s (${seconds.toFixed(2)} s)`,
    );
    expect(charged).toBe(total * PRICE);
    spend(total * PRICE);
    expect(await balance()).toEqual(expected);
  });

  it("answers 402 when the balance cannot cover the price, and a revoked key stops working", async () => {
    const small = (await api("POST", "/v1/accounts", gw.operatorToken, { name: "Small", currency: "USD" })).body;
    const topUp = await api("POST", `/v1/accounts/${small.id}/credits`, gw.operatorToken, { amount: 3000 }, { "idempotency-key": "small-1" });
    expect(topUp.status).toBe(201);
    const key = (await api("POST", `/v1/accounts/${small.id}/agent-keys`, small.owner_key, { name: "small-bot" })).body;

    const first = await pay({ text: "one" }, { authorization: `Bearer ${key.key}` });
    expect(first.status).toBe(200);
    expect(first.headers.get("tollgate-balance")).toBe("1000");
    await first.arrayBuffer();

    const broke = await pay({ text: "two" }, { authorization: `Bearer ${key.key}` });
    expect(broke.status).toBe(402);
    expect(broke.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(broke.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(await broke.json()).toMatchObject({ status: 402, code: "insufficient_funds", price: PRICE, available: 1000, currency: "USD" });
    expect(await balance(small)).toEqual({ currency: "USD", available: 1000, pending: 0, posted: 1000 });

    const revoked = await api("DELETE", `/v1/accounts/${small.id}/agent-keys/${key.id}`, small.owner_key);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    const after = await pay({ text: "three" }, { authorization: `Bearer ${key.key}` });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: "invalid_key" });
    expect(await balance(small)).toEqual({ currency: "USD", available: 1000, pending: 0, posted: 1000 });

    // The operator sees every account; the first account's owner does not see this one.
    expect((await api("GET", `/v1/accounts/${small.id}/balance`, gw.operatorToken)).body.posted).toBe(1000);
    expectProblem(await api("GET", `/v1/accounts/${small.id}/balance`, account.owner_key), 404, "not_found");
  });

  it("exports every journal entry to D1 as double-entry legs that match the ledger", async () => {
    const journal = await api("GET", `/v1/accounts/${account.id}/transfers?limit=100`, account.owner_key);
    const transfers: Json[] = [...journal.body.data];
    for (let cursor = journal.body.next_cursor; cursor; ) {
      const page = await api("GET", `/v1/accounts/${account.id}/transfers?limit=100&cursor=${cursor}`, account.owner_key);
      transfers.push(...page.body.data);
      cursor = page.body.next_cursor;
    }
    expect(transfers.length).toBe(4 + 200);
    const posted = (await balance()).posted;
    expect(posted).toBe(expected.posted);

    // The DOs export in the background (alarm, batched); wait until D1 has everything.
    const exported = await eventually(
      () => gw.d1<{ account_id: string; n: number }>("SELECT account_id, COUNT(*) AS n FROM transfers GROUP BY account_id ORDER BY n DESC"),
      (rows) => expect(rows.map((r) => r.n)).toEqual([transfers.length, 2]),
      30_000,
    );
    expect(exported[0]?.account_id).toBe(account.id);

    const [totals] = await gw.d1<{ legs: number; total: number; unbalanced: number }>(
      `SELECT COUNT(*) AS legs, SUM(amount) AS total,
              (SELECT COUNT(*) FROM (SELECT transfer_id FROM ledger_entries GROUP BY transfer_id HAVING SUM(amount) <> 0)) AS unbalanced
       FROM ledger_entries`,
    );
    expect(totals).toEqual({ legs: 2 * (transfers.length + 2), total: 0, unbalanced: 0 });

    const byAccount = await gw.d1<{ ledger_account: string; amount: number }>(
      "SELECT ledger_account, SUM(amount) AS amount FROM ledger_entries GROUP BY ledger_account ORDER BY ledger_account",
    );
    const legs = Object.fromEntries(byAccount.map((r) => [r.ledger_account, r.amount]));
    const captured = transfers.filter((t) => t.kind === "capture").reduce((sum, t) => sum + t.amount, 0);
    expect(legs[account.id]).toBe(posted);
    expect(legs[provider.id]).toBe(captured + PRICE);
    expect(legs.external).toBe(-(TOP_UP + 3000));
    expect(Object.keys(legs).length).toBe(4); // two payers, the provider, external; no platform fee (0 bps)

    // D1's copy of the journal is the DO's, transfer for transfer.
    const rows = await gw.d1<{ id: string; seq: number; kind: string; amount: number; request_id: string | null }>(
      `SELECT id, seq, kind, amount, request_id FROM transfers WHERE account_id = '${account.id}' ORDER BY seq DESC`,
    );
    expect(rows).toEqual(transfers.map((t) => ({ id: t.id, seq: t.seq, kind: t.kind, amount: t.amount, request_id: t.request_id })));
  });
});
