/**
 * The README quickstart continued (its first steps: quickstart.test.ts), against the real gateway
 * (`wrangler dev`, local D1 and Durable Objects) and the demo origin over plain HTTP: the charge
 * policy on origin failures, paid calls under load, 402 and a revoked key, and the export of the
 * journal to D1's double-entry ledger, every balance exact.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./harness.ts";
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
  quickstartAfterTwoPaidCalls,
  STATUS_PRICE,
  TOP_UP,
  withQuickstartGateway,
} from "./quickstart-fixtures.ts";

withQuickstartGateway();

describe("quickstart against wrangler dev", () => {
  let provider: Json;
  let account: Json;
  let agent: Json;
  let expected = { currency: "USD", available: 0, pending: 0, posted: 0 };

  const balance = (acct: Json = account) => balanceOf(acct);
  const pay = (body: Json, headers?: Record<string, string>) => payTranslate(agent.key, body, headers);
  const spend = (amount: number) => {
    expected = { ...expected, available: expected.available - amount, posted: expected.posted - amount };
  };

  beforeAll(async () => {
    ({ provider, account, agent, expected } = await quickstartAfterTwoPaidCalls());
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
