/**
 * What the quickstart end-to-end files share: the real gateway (`wrangler dev`, local D1 and
 * Durable Objects) and the demo origin, started and stopped around the calling file's tests by
 * `withQuickstartGateway()` (the bindings below are set once those hooks have run), a plain-HTTP
 * client for the gateway, the quickstart's prices, and the quickstart's first steps replayed for
 * the files that continue from them.
 */
import { afterAll, beforeAll, expect } from "vitest";
import { startOrigin, type RunningOrigin } from "../../demo/origin.ts";
import { gatewayFetch, type Gateway, type Json, startGateway } from "./harness.ts";

export type { Json } from "./harness.ts";

export const PRICE = 2000;
export const STATUS_PRICE = 500;
export const TOP_UP = 1_000_000;
/** The translate service's price list: POST /v1/* at PRICE, GET /status/* at STATUS_PRICE. */
export const TRANSLATE_PRICES = [
  { match: { method: "POST", path: "/v1/*" }, per_call: PRICE },
  { match: { method: "GET", path: "/status/*" }, per_call: STATUS_PRICE },
];

export let gw: Gateway;
export let origin: RunningOrigin;

/** Starts the gateway and the demo origin before the calling file's tests; stops them after. */
export function withQuickstartGateway(): void {
  beforeAll(async () => {
    [gw, origin] = await Promise.all([startGateway(), startOrigin(0)]);
  });

  afterAll(async () => {
    await Promise.all([gw?.stop(), origin?.close()]);
  });
}

/** fetch on the gateway (harness.ts's `gatewayFetch`: a request wrangler's proxy could not deliver is sent again). */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return gatewayFetch(`${gw.url}${path}`, init);
}

export async function api(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
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

/** An account's balance, read with its owner key. */
export async function balanceOf(account: Json): Promise<Json> {
  return (await api("GET", `/v1/accounts/${account.id}/balance`, account.owner_key)).body;
}

/** A paid call to the translate service: with this agent key, unless `headers` carry another credential. */
export function payTranslate(agentKey: string, body: Json, headers: Record<string, string> = { authorization: `Bearer ${agentKey}` }): Promise<Response> {
  return call("/s/translate/v1/translate", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** Expects an RFC 9457 problem with this status and code. */
export function expectProblem(res: { status: number; headers: Headers; body: Json }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

/**
 * The quickstart up to its first paid calls (quickstart.test.ts checks each step): a provider, the
 * translate service, a USD account topped up with TOP_UP, an agent key, and two paid calls.
 * Returns the provider, the account, the agent key and the balance they leave.
 */
export async function quickstartAfterTwoPaidCalls() {
  const provider: Json = (await api("POST", "/v1/providers", gw.operatorToken, { name: "Acme AI" })).body;
  const service = await api("POST", "/v1/services", provider.api_key, { slug: "translate", name: "Translate", origin: origin.url, prices: TRANSLATE_PRICES });
  expect(service.status, JSON.stringify(service.body)).toBe(201);
  const account: Json = (await api("POST", "/v1/accounts", gw.operatorToken, { name: "Research team", currency: "USD" })).body;
  const topUp = { amount: TOP_UP, reference: "invoice-0001" };
  expect((await api("POST", `/v1/accounts/${account.id}/credits`, gw.operatorToken, topUp, { "idempotency-key": "topup-0001" })).status).toBe(201);
  const agent: Json = (await api("POST", `/v1/accounts/${account.id}/agent-keys`, account.owner_key, { name: "translator-bot" })).body;
  for (const text of ["hello", "abc"]) {
    const res = await payTranslate(agent.key, { text });
    expect(res.status).toBe(200);
    expect(res.headers.get("tollgate-charge")).toBe(String(PRICE));
    await res.arrayBuffer();
  }
  const posted = TOP_UP - 2 * PRICE;
  return { provider, account, agent, expected: { currency: "USD", available: posted, pending: 0, posted } };
}
