/** The harness's side of Tollgate's JSON API: set-up calls with the operator token. */
import type { Gateway } from "./gateway.ts";
import type { Call } from "./load.ts";

export async function api<T>(gw: Gateway, method: string, path: string, body?: unknown, token = gw.operatorToken): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export type Payer = { id: string; key: string };

/** Opens an account, credits it and issues an agent key (three API calls). */
export async function payer(gw: Gateway, name: string, credit: number): Promise<Payer> {
  const account = await api<{ id: string }>(gw, "POST", "/v1/accounts", { name, currency: "USD" });
  await api(gw, "POST", `/v1/accounts/${account.id}/credits`, { amount: credit, reference: "bench" });
  const key = await api<{ key: string }>(gw, "POST", `/v1/accounts/${account.id}/agent-keys`, { name: "bench-agent" });
  return { id: account.id, key: key.key };
}

/** `count` accounts named `prefix-i`, each funded far beyond any run and with an agent key; 8 set up at a time. */
export function fundedPayers(gw: Gateway, count: number, prefix: string): Promise<Payer[]> {
  return inParallel(
    Array.from({ length: count }, (_, i) => i),
    8,
    (i) => payer(gw, `${prefix}-${i}`, 1_000_000_000_000),
  );
}

/** The path an agent's per-call request takes on each gateway arm: the bare pass-through, or the metered service. */
export const ARM_PATH = { bare: "/__bench/pass/v1/chat/completions", tollgate: "/s/bench-json/v1/chat/completions" } as const;

/** The bench's provider and its two services: `bench-json` (a per-call price) and `bench-llm` (tokens). */
export async function benchServices(gw: Gateway, originUrl: string, price: number): Promise<{ providerId: string }> {
  const provider = await api<{ id: string }>(gw, "POST", "/v1/providers", { name: "Bench provider" });
  await api(gw, "POST", "/v1/services", {
    provider_id: provider.id,
    slug: "bench-json",
    name: "Bench (per call)",
    origin: originUrl,
    prices: [{ per_call: price }],
  });
  await api(gw, "POST", "/v1/services", {
    provider_id: provider.id,
    slug: "bench-llm",
    name: "Bench LLM (tokens)",
    origin: originUrl,
    prices: [
      {
        meter: "tokens",
        format: "openai",
        input: { amount: 150_000, per: 1_000_000 },
        output: { amount: 600_000, per: 1_000_000 },
        hold: 100_000,
      },
    ],
  });
  return { providerId: provider.id };
}

/** Runs `fn` over `items`, at most `width` at a time, keeping the order of the results. */
export async function inParallel<T, R>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}

/** An agent's POST of `body` (JSON) to `path`, with its key: the call every arm sends. */
export function agentCall(p: Payer, path: string, body = LLM_BODY): Call {
  return { method: "POST", path, headers: { authorization: `Bearer ${p.key}`, "content-type": "application/json" }, body };
}

export const LLM_BODY = JSON.stringify({ model: "bench-llm-1", max_tokens: 64, messages: [{ role: "user", content: "Say hello to the benchmark." }] });
