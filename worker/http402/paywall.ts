import type { Context } from "hono";
import { matchRule, quote } from "../../core/pricing/rules";
import { presentedKey } from "../auth/principal";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { callBound } from "../metering/bound";
import { readRequestBody } from "../proxy/body";
import { callIdempotency, type CallIdempotency } from "../proxy/idempotency";
import { signingKeys } from "../proxy/signing-keys";
import type { Service } from "../services/store";
import { challengeHeaders } from "./challenge";
import { acceptedOffer, readPaidRetry, type PaidRetry } from "./credential";

/**
 * HTTP 402 on the metered proxy: a priced call that carries no credential is offered a price it
 * can pay with x402 or MPP, and a retry that pays it is charged like a keyed call (the agent key
 * travels in the payment). An MCP service keeps 401: MCP clients authenticate in their own flow.
 */

/** The key a proxied call pays with (a bearer key, or the key inside a payment), or the 402 that asks for one. */
export async function payingKey(c: Context<AppEnv>, service: Service, path: string): Promise<{ key: string; paid: PaidRetry | null }> {
  const request = c.req.raw;
  let paid: PaidRetry | null;
  try {
    paid = readPaidRetry(request.headers);
  } catch (err) {
    throw await withOffer(c, service, path, err as ApiError);
  }
  const key = paid?.key ?? presentedKey(request.headers);
  if (key) return { key, paid };
  if (service.protocol === "mcp") throw new ApiError("unauthorized", "Send the agent key as 'Authorization: Bearer <key>' or 'x-api-key'.");
  const detail = "Pay this call with the offer in PAYMENT-REQUIRED (x402) or WWW-Authenticate (MPP), or send an agent key as 'Authorization: Bearer <key>'.";
  throw await withOffer(c, service, path, new ApiError("payment_required", detail));
}

/**
 * The paid retry's offer, checked against the call as the gateway prices it now; its nonce
 * becomes the call's idempotency key, so an offer pays for one call and a second use of it
 * finds that call (`payment_replayed`) instead of paying again.
 */
export async function paidIdempotency(
  c: Context<AppEnv>,
  paid: PaidRetry,
  service: Service,
  path: string,
  body: ArrayBuffer | null,
  amount: number,
): Promise<CallIdempotency> {
  const request = c.req.raw;
  const { verifiers } = await signingKeys(c.env);
  const terms = { method: request.method, url: request.url, serviceId: service.id, amount, currency: service.currency };
  try {
    const claims = await acceptedOffer(paid, terms, verifiers, Math.floor(Date.now() / 1000));
    return (await callIdempotency(request, path, body, `offer:${claims.nonce}`)) as CallIdempotency;
  } catch (err) {
    throw await withOffer(c, service, path, err as ApiError, amount);
  }
}

/**
 * `err` with a fresh offer for the call beside it, for the client to pay (or pay again). The
 * price is what the call's hold would be: `amount` when the caller knows it, else quoted here
 * (reading the body only when a tokens rule is bounded by it). No offer for an MCP service, or a
 * call with no price rule (that is the answer instead).
 */
export async function withOffer(c: Context<AppEnv>, service: Service, path: string, err: ApiError, amount?: number): Promise<ApiError> {
  if (!(err instanceof ApiError) || service.protocol === "mcp") return err;
  const request = c.req.raw;
  let price = amount;
  if (price === undefined) {
    const rule = matchRule(service.prices, request.method, path);
    if (!rule) return new ApiError("no_price", `No price rule of '${service.slug}' matches ${request.method} ${path}.`);
    const body = rule.meter === "tokens" && !request.bodyUsed ? await readRequestBody(request) : null;
    price = quote(rule, callBound(request, rule, body));
  }
  const { signer } = await signingKeys(c.env);
  const terms = { method: request.method, url: request.url, serviceId: service.id, serviceSlug: service.slug, amount: price, currency: service.currency };
  const offer = await challengeHeaders(terms, signer, Math.floor(Date.now() / 1000), err.code);
  const extra = err.code === "payment_required" || err.code === "payment_invalid" ? { price, currency: service.currency, ...err.extra } : err.extra;
  return new ApiError(err.code, err.message, extra, { ...err.headers, ...offer });
}
