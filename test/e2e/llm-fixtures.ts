/**
 * What the LLM end-to-end files share: the real gateway (`wrangler dev`) in front of the fake LLM
 * origin (demo/llm-origin.ts), one provider with its token-priced services, one funded account
 * and its agent key, the official `openai` and `@anthropic-ai/sdk` clients with that key as their
 * API key, and the helpers that check how a call settled. `withLlmGateway()` registers the hooks
 * that start and stop all of it for the calling test file; the bindings below are set once those
 * hooks have run (read them inside tests).
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, expect } from "vitest";
import { generatedTokens, INPUT_OVERHEAD, startLlmOrigin, type RunningLlmOrigin } from "../../demo/llm-origin.ts";
import { eventually, startGateway, type Gateway } from "./harness.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const M = 1_000_000;
export const LLM_HOLD = 200_000;
export const CLAUDE_HOLD = 500_000;
export const CHAT = { input: { amount: 150_000, per: M }, cached_input: { amount: 75_000, per: M }, output: { amount: 600_000, per: M } };
/** No cached_input rate: cached tokens are priced at the input rate. */
export const RESPONSES = { input: { amount: 150_000, per: M }, output: { amount: 600_000, per: M } };
export const CLAUDE = { input: { amount: 3 * M, per: M }, cached_input: { amount: 300_000, per: M }, output: { amount: 15 * M, per: M } };
const chatRule = { match: { method: "POST", path: "/v1/chat/completions" }, meter: "tokens", format: "openai", ...CHAT, hold: LLM_HOLD };
const responsesRule = { match: { method: "POST", path: "/v1/responses" }, meter: "tokens", format: "openai", ...RESPONSES, hold: LLM_HOLD };
const messagesRule = { match: { method: "POST", path: "/v1/messages" }, meter: "tokens", format: "anthropic", ...CLAUDE, hold: CLAUDE_HOLD };

export const SYSTEM = "You are a terse assistant."; // 5 words
export const USER = "Explain in one sentence how a metering gateway charges an agent for the tokens it uses, and why the hold matters."; // 21 words
export const INPUT = INPUT_OVERHEAD + 5 + 21; // 33 input tokens for every call in the LLM tests
export const TEXT_12 = generatedTokens(12).join(""); // the default completion

/** ⌈units × amount ÷ per⌉, as Tollgate prices each meter component. */
export const ceil = (units: number, rate: { amount: number; per: number }) => Math.floor((units * rate.amount + rate.per - 1) / rate.per);

export let gw: Gateway;
export let origin: RunningLlmOrigin;
export let provider: Json;
export let account: Json;
export let agentKey: string;
export let openai: OpenAI;
export let anthropic: Anthropic;
export const services: Record<string, Json> = {};

export async function api(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Json };
}

export const balance = async (acct: Json = account) => (await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body;
const journal = async (acct: Json = account): Promise<Json[]> => (await api("GET", `/v1/accounts/${acct.id}/transfers?limit=100`, acct.owner_key)).body.data;

/**
 * Waits until the call's hold is settled (streamed calls settle after the body, in waitUntil),
 * then checks the balance moved by exactly the capture and returns the capture (or null: voided).
 */
export async function settled(requestId: string | null, before: Json): Promise<Json | null> {
  expect(requestId).toMatch(/^req_/);
  const after = await eventually(balance, (b) => expect(b.pending).toBe(0));
  const capture = (await journal()).find((t) => t.request_id === requestId) ?? null;
  expect(after.posted).toBe(before.posted - (capture?.amount ?? 0));
  expect(after.available).toBe(after.posted);
  return capture;
}

/** The capture a call with this usage should produce under a tokens rule (reported usage). */
export function expectCapture(t: Json, amount: number, usage: { input: number; cached: number; output: number }, service: Json) {
  expect(t).toMatchObject({
    kind: "capture",
    amount,
    shortfall: 0,
    reason: "origin_succeeded",
    service_id: service.id,
    provider_id: provider.id,
    usage: { input_tokens: usage.input - usage.cached, cached_input_tokens: usage.cached, output_tokens: usage.output },
  });
  expect(t.usage.estimated).toBeUndefined();
}

/** Starts the gateway, the fake LLM origin and the world above before the calling file's tests; stops them after. */
export function withLlmGateway(): void {
  beforeAll(async () => {
    [gw, origin] = await Promise.all([startGateway(), startLlmOrigin(0)]);
    provider = (await api("POST", "/v1/providers", gw.operatorToken, { name: "Fake LLM Co" })).body;
    const service = async (slug: string, prices: unknown[]) => {
      const res = await api("POST", "/v1/services", provider.api_key, { slug, name: slug, origin: origin.url, prices });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      services[slug] = res.body;
    };
    await service("llm", [chatRule, responsesRule]);
    await service("claude", [messagesRule]);
    await service("llm-strict", [{ ...chatRule, on_failure: "none" }]);
    await service("meters", [
      { match: { path: "/bytes/*" }, meter: "bytes", rate: { amount: 1, per: 100 }, hold: 1_000 },
      { match: { path: "/units/*" }, meter: "units", per_call: 100, rate: { amount: 250, per: 1 }, hold: 5_000 },
      { match: { path: "/jobs" }, meter: "units", deferred: true, rate: { amount: 1_000, per: 1 }, hold: 20_000 },
    ]);
    account = (await api("POST", "/v1/accounts", gw.operatorToken, { name: "Agent Co", currency: "USD" })).body;
    const credit = await api("POST", `/v1/accounts/${account.id}/credits`, gw.operatorToken, { amount: 10 * M }, { "idempotency-key": "llm-topup" });
    expect(credit.status).toBe(201);
    agentKey = (await api("POST", `/v1/accounts/${account.id}/agent-keys`, account.owner_key, { name: "sdk-bot" })).body.key;
    openai = new OpenAI({ apiKey: agentKey, baseURL: `${gw.url}/s/llm/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: agentKey, baseURL: `${gw.url}/s/claude`, maxRetries: 0 });
  });

  afterAll(async () => {
    await Promise.all([gw?.stop(), origin?.close()]);
  });
}

export const chatMessages = [
  { role: "system" as const, content: SYSTEM },
  { role: "user" as const, content: USER },
];
