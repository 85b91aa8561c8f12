/**
 * The agent's side: paid calls through a Tollgate gateway with an agent key.
 *
 *   const tollgate = createTollgateClient({ baseUrl: "https://gateway.example", agentKey });
 *   const { response, charge } = await tollgate.call("translate", "/v1/translate", { method: "POST", body });
 *
 * A call the gateway refuses (nothing forwarded, nothing charged) throws `TollgateCallError`;
 * one refused for money (402, or the key's mandate) throws its subclass `TollgatePaymentError`,
 * with the problem's machine-readable fields. The origin's own answers, errors included, come
 * back as the `response`.
 */

/** What the client calls the gateway with (the global `fetch` unless given). */
export type AgentFetch = (input: string, init?: RequestInit) => Promise<Response>;

export type TollgateClientOptions = {
  /** The gateway's base URL, e.g. https://tollgate.example.com. */
  baseUrl: string;
  /** The agent key (`tg_agent_…`); sent as `Authorization: Bearer`. */
  agentKey: string;
  fetch?: AgentFetch;
};

export type TollgateCallInit = RequestInit & {
  /** Makes the call safe to retry: a retry with the same key is answered with the first call's response and charged once. */
  idempotencyKey?: string;
};

export type TollgateCallResult = {
  /** The origin's response, as the gateway forwarded it. */
  response: Response;
  /**
   * What the call cost, in micro-units of the account's currency (`tollgate-charge`), or null when
   * it is not known yet (a call metered by what streams, or by usage the provider reports later).
   * A number: the gateway keeps every amount at or below 2^53 − 1, so it is exact.
   */
  charge: number | null;
  /** What the account has available after the call (`tollgate-balance`), when known. */
  balance: number | null;
  /** What is held for a call whose charge is not known yet (`tollgate-hold`). */
  hold: number | null;
  /** Tollgate's id for the call (`tollgate-request-id`): the `request_id` of its transfer in the journal. */
  requestId: string | null;
  /** The pass that covered the call (`tollgate-pass`), if one did. */
  pass: string | null;
  /** True when this answers an earlier call with the same idempotency key (charged once). */
  replayed: boolean;
};

/** An RFC 9457 problem document as the gateway writes it. */
export type TollgateProblem = { type: string; title: string; status: number; detail: string; code: string; [member: string]: unknown };

/** The gateway refused the call: it did not reach the origin and cost nothing. */
export class TollgateCallError extends Error {
  readonly status: number;
  /** The gateway's stable error code (`invalid_key`, `unknown_service`, `rate_limited`, …). */
  readonly code: string;
  readonly problem: TollgateProblem;
  readonly requestId: string | null;
  /** Seconds to wait before retrying, on a 429. */
  readonly retryAfter: number | null;

  constructor(problem: TollgateProblem, requestId: string | null, retryAfter: number | null) {
    super(problem.detail);
    this.name = "TollgateCallError";
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }
}

/**
 * Refused for money: the account cannot cover the call (`insufficient_funds`), the call needs a
 * pass (`pass_required`) or a payment (`payment_required`), or the key's mandate does not allow it
 * (`mandate_exceeded`, `mandate_per_call_exceeded`, …).
 */
export class TollgatePaymentError extends TollgateCallError {
  /** The most the call may cost (micro-units), on `insufficient_funds`. */
  readonly price: number | null;
  /** What the account has available (micro-units), on `insufficient_funds`. */
  readonly available: number | null;
  readonly currency: string | null;
  /** The mandate that refused the call, on a `mandate_*` refusal. */
  readonly mandateId: string | null;

  constructor(problem: TollgateProblem, requestId: string | null, retryAfter: number | null) {
    super(problem, requestId, retryAfter);
    this.name = "TollgatePaymentError";
    this.price = safeInteger(problem.price);
    this.available = safeInteger(problem.available);
    this.currency = typeof problem.currency === "string" ? problem.currency : null;
    this.mandateId = typeof problem.mandate_id === "string" ? problem.mandate_id : null;
  }
}

export type TollgateClient = {
  /**
   * One paid call: `service` is a service's slug (called at `<baseUrl>/s/<slug>`) or its full
   * base URL (a custom hostname); `path` is the path on it, with any query.
   */
  call(service: string, path?: string, init?: TollgateCallInit): Promise<TollgateCallResult>;
};

/** The gateway's own problems, as opposed to the origin's (which pass through untouched). */
const GATEWAY_PROBLEM = "https://tollgate.dev/problems/";

export function createTollgateClient(options: TollgateClientOptions): TollgateClient {
  const base = options.baseUrl.replace(/\/+$/, "");
  const send = options.fetch ?? ((input: string, init?: RequestInit) => fetch(input, init));
  return {
    async call(service, path = "/", init = {}) {
      const { idempotencyKey, ...requestInit } = init;
      const headers = new Headers(requestInit.headers);
      headers.set("authorization", `Bearer ${options.agentKey}`);
      if (idempotencyKey !== undefined) headers.set("idempotency-key", idempotencyKey);
      const response = await send(urlOf(base, service, path), { ...requestInit, headers });
      await throwIfRefused(response);
      const h = response.headers;
      return {
        response,
        charge: amountHeader(h, "tollgate-charge"),
        balance: amountHeader(h, "tollgate-balance"),
        hold: amountHeader(h, "tollgate-hold"),
        requestId: h.get("tollgate-request-id"),
        pass: h.get("tollgate-pass"),
        replayed: h.get("idempotent-replayed") === "true",
      };
    },
  };
}

function urlOf(base: string, service: string, path: string): string {
  const rest = path.startsWith("/") ? path : `/${path}`;
  if (/^https?:\/\//i.test(service)) return `${service.replace(/\/+$/, "")}${rest}`;
  if (service === "" || service.includes("/")) throw new TypeError(`Not a service slug or URL: '${service}'`);
  return `${base}/s/${encodeURIComponent(service)}${rest}`;
}

async function throwIfRefused(response: Response): Promise<void> {
  if (response.ok || !(response.headers.get("content-type") ?? "").startsWith("application/problem+json")) return;
  const problem = (await response
    .clone()
    .json()
    .catch(() => null)) as TollgateProblem | null;
  if (!problem || typeof problem.type !== "string" || !problem.type.startsWith(GATEWAY_PROBLEM) || typeof problem.code !== "string") return;
  await response.body?.cancel();
  const requestId = response.headers.get("tollgate-request-id");
  const retryAfter = safeInteger(Number(response.headers.get("retry-after") ?? Number.NaN));
  const forMoney = response.status === 402 || problem.code.startsWith("mandate_");
  throw forMoney ? new TollgatePaymentError(problem, requestId, retryAfter) : new TollgateCallError(problem, requestId, retryAfter);
}

function amountHeader(headers: Headers, name: string): number | null {
  const value = headers.get(name);
  return value !== null && /^\d{1,16}$/.test(value) ? safeInteger(Number(value)) : null;
}

function safeInteger(v: unknown): number | null {
  return typeof v === "number" && Number.isSafeInteger(v) ? v : null;
}
