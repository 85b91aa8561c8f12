/**
 * A small client for route tests: real calls into the Worker under test (`exports.default.fetch`)
 * and setup helpers that return ids and keys. Storage is isolated per test *file*, so every
 * helper makes fresh, uniquely named objects.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { buildApp } from "../../worker/app";
import { expect, inject } from "vitest";

export const OPERATOR = "test-operator-token-0123456789";

/** The Worker under test (typed here so the helpers do not depend on generated GlobalProps). */
const worker = exports as unknown as { default: { fetch(request: Request): Promise<Response> } };
export const GATEWAY = "http://127.0.0.1";

export type CallInit = {
  method?: string;
  /** Sent as `Authorization: Bearer <key>` unless null/undefined. */
  key?: string | null;
  /** JSON-encoded unless it is already a string. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Full base URL (scheme + host), e.g. a service's custom hostname. */
  base?: string;
};

/** One request to the Worker; `path` is sent as is (no normalization beyond the URL parser's). */
export function call(path: string, init: CallInit = {}): Promise<Response> {
  return worker.default.fetch(request(path, init));
}

/**
 * The same app with some settings changed (e.g. `HOLD_TTL_SECONDS`), called directly: `finished`
 * resolves when the call's background work (settlement, hold extensions) is done.
 */
export function callWithEnv(vars: Record<string, string>, path: string, init: CallInit = {}): { response: Promise<Response>; finished: () => Promise<void> } {
  const ctx = createExecutionContext();
  const response = buildApp().fetch(request(path, init), { ...env, ...vars }, ctx);
  return { response: Promise.resolve(response), finished: () => waitOnExecutionContext(ctx) };
}

function request(path: string, init: CallInit): Request {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const method = init.method ?? (body === undefined ? "GET" : "POST");
  // `manual`: the test sees exactly what the Worker answered (a service-binding fetch follows 3xx).
  return new Request(`${init.base ?? GATEWAY}${path}`, { method, headers, body, redirect: "manual" });
}

/** A call whose JSON body is parsed (`any`: tests assert the shape). */
export async function api(path: string, init: CallInit = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await call(path, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

/** Asserts an RFC 9457 problem document with this status and code; returns its body. */
export async function expectProblem(res: Response, status: number, code?: string): Promise<any> {
  const body = await res.json<any>();
  expect({ status: res.status, code: body?.code }).toEqual({ status, code: code ?? body?.code });
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String), code: expect.any(String) });
  return body;
}

let counter = 0;
/** A slug (or name) unique within the test file. */
export function unique(prefix = "svc"): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export function originUrl(): string {
  return inject("originUrl");
}

export async function createProvider(name = unique("prov")): Promise<{ id: string; key: string }> {
  const r = await api("/v1/providers", { key: OPERATOR, body: { name } });
  expect(r.status).toBe(201);
  return { id: r.body.id, key: r.body.api_key };
}

export async function createAccount(currency = "USD"): Promise<{ id: string; ownerKey: string }> {
  const r = await api("/v1/accounts", { key: OPERATOR, body: { name: unique("acct"), currency } });
  expect(r.status).toBe(201);
  return { id: r.body.id, ownerKey: r.body.owner_key };
}

export async function credit(accountId: string, amount: number): Promise<void> {
  const r = await api(`/v1/accounts/${accountId}/credits`, { key: OPERATOR, body: { amount } });
  expect(r.status).toBe(201);
}

export async function createAgentKey(accountId: string, ownerKey: string, name = "bot"): Promise<{ id: string; key: string }> {
  const r = await api(`/v1/accounts/${accountId}/agent-keys`, { key: ownerKey, body: { name } });
  expect(r.status).toBe(201);
  return { id: r.body.id, key: r.body.key };
}

export type ServiceInput = {
  slug?: string;
  origin?: string;
  prices?: unknown[];
  hostnames?: string[];
  timeout_ms?: number;
  name?: string;
  currency?: string;
  sla?: unknown;
  plans?: unknown[];
  protocol?: "http" | "mcp";
  listed?: boolean;
};

/** A service of `providerKey`'s provider; defaults: the demo origin, 2000 per call. */
export async function createService(providerKey: string, input: ServiceInput = {}): Promise<any> {
  const body = { slug: unique("svc"), name: "Test service", origin: originUrl(), prices: [{ per_call: 2000 }], ...input };
  const r = await api("/v1/services", { key: providerKey, body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** The hostnames of a service's response (its `hostnames` are claims: `{hostname, status, verification}`). */
export const hostnamesOf = (svc: { hostnames: { hostname: string }[] }): string[] => svc.hostnames.map((h) => h.hostname);

/** The operator activates a service's claimed hostname (as after checking its TXT record): it routes from now on. */
export async function activateHostname(serviceId: string, hostname: string): Promise<void> {
  const r = await api(`/v1/services/${serviceId}/hostnames/${hostname}/activate`, { key: OPERATOR, method: "POST" });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.status).toBe("active");
}

/** A service whose custom hostnames are all claimed and activated (ready to route). */
export async function createHostedService(providerKey: string, input: ServiceInput & { hostnames: string[] }): Promise<any> {
  const svc = await createService(providerKey, input);
  for (const host of input.hostnames) await activateHostname(svc.id, host);
  return svc;
}

export type Payer = { accountId: string; ownerKey: string; agentKey: string; agentKeyId: string };

/** An account with `funds` credited and one agent key. */
export async function payer(funds: number, currency = "USD"): Promise<Payer> {
  const { id, ownerKey } = await createAccount(currency);
  if (funds > 0) await credit(id, funds);
  const agent = await createAgentKey(id, ownerKey);
  return { accountId: id, ownerKey, agentKey: agent.key, agentKeyId: agent.id };
}

export type Provider = { id: string; key: string };
export type ServiceRef = { id: string; slug: string };

/**
 * The setup many route files make once, in `beforeAll`: a provider, one service of it
 * (`service`: its input) and a payer with `funds` and one agent key.
 */
export async function providerServicePayer(service: ServiceInput, funds: number): Promise<{ prov: Provider; svc: ServiceRef; p: Payer }> {
  const prov = await createProvider();
  const svc: ServiceRef = await createService(prov.key, service);
  const p = await payer(funds);
  return { prov, svc, p };
}

/** Creates a mandate on the account with `key` and expects 201; `terms` is the whole request body. */
export async function postMandate(accountId: string, key: string, terms: Record<string, unknown>): Promise<any> {
  const r = await api(`/v1/accounts/${accountId}/mandates`, { key, body: terms });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** A new agent key of the account, bound to the mandate. */
export async function boundKey(accountId: string, ownerKey: string, mandateId: string): Promise<{ id: string; key: string }> {
  const r = await api(`/v1/accounts/${accountId}/agent-keys`, { key: ownerKey, body: { name: "bound", mandate_id: mandateId } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { id: r.body.id, key: r.body.key };
}

export type Balance = { currency: string; available: number; pending: number; posted: number };

export async function balance(accountId: string): Promise<Balance> {
  const r = await api(`/v1/accounts/${accountId}/balance`, { key: OPERATOR });
  expect(r.status).toBe(200);
  return r.body;
}

/**
 * The balance once no hold is pending: voids after a failed call run in `waitUntil`, after the
 * response, so a read straight after the call may still see the hold.
 */
export async function settledBalance(accountId: string, timeoutMs = 3000): Promise<Balance> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const b = await balance(accountId);
    if (b.pending === 0 || Date.now() > until) return b;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function transfers(accountId: string, query = ""): Promise<any[]> {
  const r = await api(`/v1/accounts/${accountId}/transfers${query}`, { key: OPERATOR });
  expect(r.status).toBe(200);
  return r.body.data;
}

/** A one-character change inside the key (at `at`, counted from the end by default). */
export function flip(key: string, at = key.length - 1): string {
  const i = at < 0 ? key.length + at : at;
  const c = key[i] === "a" ? "b" : "a";
  return key.slice(0, i) + c + key.slice(i + 1);
}
