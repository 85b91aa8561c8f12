import type { Context } from "hono";
import { AccountClient } from "../account-client/client";
import type { Hold } from "../account-client/hold";
import { reserveRefusal } from "../account-client/refusals";
import { hashKey, parseKey } from "../auth/keys";
import { config, type AppEnv } from "../env";
import { ApiError, problemResponse } from "../errors";
import { requestIdFor } from "../../core/ids";
import type { ReserveInput } from "../../durable-objects/types";
import { plansCovering } from "../../core/pricing/plans";
import { parseTagsHeader } from "./tags-header";
import { callBound } from "../metering/bound";
import { matchRule, quote, type PriceRule } from "../../core/pricing/rules";
import { payingKey, paidIdempotency, withOffer } from "../http402/paywall";
import { addReceipt } from "../http402/receipt";
import { originRefusal } from "../services/origin-policy";
import type { Service } from "../services/store";
import { readRequestBody } from "./body";
import { planMcpCall, toolRefusal, type McpCall } from "./mcp";
import { isEventStream, ToolAnswer } from "../metering/mcp";
import { ServedCall, UNCHARGED } from "./charge";
import { callIdempotency, replay } from "./idempotency";
import { callOrigin, upstreamUrl } from "./forward";
import { signingKeys, type Signer } from "./signing-keys";
import { chargeContextHeader, newNonce, signRequest } from "./signing";

/** Why a service's stored origin may not be fetched now, per service object (the cache keeps them). */
const originVerdicts = new WeakMap<Service, string | null>();

function storedOriginRefusal(service: Service, allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  let why = originVerdicts.get(service);
  if (why === undefined) {
    why = originRefusal(service.origin, false);
    originVerdicts.set(service, why);
  }
  return why;
}

/**
 * One metered call: reserve (authorizes the key and holds the most the call may cost, in one
 * DO round trip), forward, respond, then charge what is owed off the client's path (usually
 * riding with the account's next reserve) or release the hold when the origin failed. The
 * agent's money moves only for a call the origin answered successfully, and never by more than
 * the hold.
 * `base` is where the service lives on the gateway: `/s/{slug}`, or "" on its custom hostname.
 */
export async function proxyCall(c: Context<AppEnv>, service: Service, path: string, base: string): Promise<Response> {
  const request = c.req.raw;
  // A bearer key, or the key inside a paid retry of a 402 (http402/): charged the same way.
  const { key, paid } = await payingKey(c, service, path);
  const parsed = parseKey(key);
  if (parsed?.kind !== "agent") throw new ApiError("invalid_key");
  const accountId = parsed.objectId;
  // The call's id names its account (a provider's usage report is routed by it). Set once here:
  // the app's middleware puts it on every answer from now on, errors included.
  const requestId = requestIdFor(accountId);
  c.set("requestId", requestId);

  // An MCP service is priced by what its JSON-RPC body asks (mcp.ts), read before the rule is known.
  const mcp = service.protocol === "mcp" ? await planMcpCall(request, service, path) : null;
  if (mcp instanceof Response) return mcp;
  const rule = mcp ? mcp.rule : matchRule(service.prices, request.method, path);
  if (!rule) throw new ApiError("no_price", `No price rule of '${service.slug}' matches ${request.method} ${path}.`);
  const tags = parseTagsHeader(request.headers.get("tollgate-tags"));
  const cfg = config(c.env);
  // A service stored while private origins were allowed (local development) is not fetched once
  // they are not: refused before any money moves (SSRF; origin-policy.ts).
  if (storedOriginRefusal(service, cfg.ALLOW_PRIVATE_ORIGINS) !== null) {
    throw new ApiError("origin_not_allowed", "The service's origin is not a public address; the provider must change it.", {}, UNCHARGED);
  }
  // Both before any money moves: a call Tollgate cannot sign, or too large to sign, is refused.
  const { signer } = await signingKeys(c.env);
  const body = mcp ? mcp.body : await readRequestBody(request);
  const amount = quote(rule, callBound(request, rule, body));
  // A paid retry's offer must match the call; its nonce is the call's key (an offer pays once).
  const idempotency = paid ? await paidIdempotency(c, paid, service, path, body, amount) : await callIdempotency(request, path, body);
  const input: ReserveInput = {
    keyHash: await hashKey(key),
    requestId,
    serviceId: service.id,
    providerId: service.provider_id,
    feeBps: service.fee_bps ?? cfg.PLATFORM_FEE_BPS,
    amount,
    currency: service.currency,
    ttlMs: rule.deferred ? service.hold_timeout_s * 1000 : service.timeout_ms + cfg.HOLD_TTL_SECONDS * 1000,
    deferredRule: rule.deferred ? rule : null,
    serviceSlug: service.slug,
    tags,
    idempotency,
    // Which plans cover the call, decided here from the cached service (no plans: nothing to do);
    // the ledger looks for a pass of one of them in the reserve's own transaction.
    // A free MCP message draws no pass call.
    passes: mcp && !mcp.tool ? null : plansCovering(service.plans, request.method, path),
  };

  // 1. Reserve. It may be retried (once, on a fresh stub) only when running it twice is
  // harmless: a GET/HEAD (a second hold just expires) or a keyed call (the ledger sees the key).
  const retry = request.method === "GET" || request.method === "HEAD" || idempotency !== null;
  const reservation = await new AccountClient(c.env, c.executionCtx, accountId).reserve(input, retry);
  if (!reservation.ok) {
    if (paid && reservation.code.startsWith("idempotency_")) throw offerUsed(reservation);
    // A retry of a charged call gets the first call's response: not forwarded, not charged.
    if (reservation.code === "idempotency_replay") return replay(reservation.response);
    if (mcp?.tool) return toolRefusal(mcp.tool.id, reserveRefusal(reservation));
    // Short of funds: the answer also offers the price, for a client that pays another way.
    if (reservation.code === "insufficient_funds") throw await withOffer(c, service, path, reserveRefusal(reservation), amount);
    throw reserveRefusal(reservation);
  }
  const held = { rule, mcp, body, hold: reservation, requestId, keep: idempotency !== null, signer };
  const response = await forwardAndCharge(c, service, path, base, held);
  return paid ? addReceipt(response, paid, requestId, accountId) : response;
}

/** What the reserve decided a call is: its rule, its MCP tool if any, its body and its hold. */
type HeldCall = { rule: PriceRule; mcp: McpCall | null; body: ArrayBuffer | null; hold: Hold; requestId: string; keep: boolean; signer: Signer };

/** Steps 2–4 of a call the ledger has held: forward it signed, answer, and charge what it cost. */
async function forwardAndCharge(c: Context<AppEnv>, service: Service, path: string, base: string, call: HeldCall): Promise<Response> {
  const request = c.req.raw;
  const { rule, mcp, body, hold, requestId, signer } = call;
  try {
    // 2. Forward, signed over the call and what the hold covers (the provider can verify both).
    const startedAt = Date.now();
    const target = upstreamUrl(service.origin, path, new URL(request.url).search);
    const charge = chargeContextHeader({
      serviceId: service.id,
      hold: hold.amount,
      currency: hold.currency,
      meter: rule.meter ?? "call",
      deferred: rule.deferred === true,
    });
    const covered = { "tollgate-request-id": requestId, "tollgate-charge-context": charge };
    const signature = await signRequest({
      method: request.method,
      url: target,
      headers: covered,
      body,
      now: Date.now() / 1000,
      nonce: newNonce(),
      key: signer,
    });
    const outcome = await callOrigin(request, target, { ...covered, ...signature }, service.timeout_ms, body);
    // 3. Respond, and 4. charge by what the origin did (charge.ts): a failure costs nothing.
    if (!outcome.ok) return originFailed(hold, outcome.reason);
    // Slower than the service promised: the charge, whatever it comes to, is refunded as it lands.
    if (service.sla?.refund === "full" && outcome.latencyMs > service.sla.max_latency_ms) hold.refundOnCapture = "sla_breach";
    const served = new ServedCall(c.executionCtx, outcome.response, hold, { origin: service.origin, target, request: request.url, base });
    if (served.status >= 400) return await served.refused();
    // A tool call's charge waits for its answer: an error (or `isError`) costs nothing.
    if (mcp?.tool) return await served.respondThenChargeTool(rule, new ToolAnswer(mcp.tool.id, isEventStream(outcome.response)), startedAt);
    const keep = call.keep ? requestId : null;
    const requestBytes = body?.byteLength ?? Number(request.headers.get("content-length") ?? 0);
    return await served.respondThenCharge(rule, keep, startedAt, requestBytes);
  } catch (err) {
    // Whatever broke after the reserve, the hold must not wait for its expiry to be released.
    hold.release("gateway_error");
    throw err;
  }
}

/** The origin could not be reached or did not answer in time: the hold is released, nothing charged. */
function originFailed(hold: Hold, reason: "origin_timeout" | "origin_unreachable"): Response {
  hold.release(reason);
  if (reason === "origin_timeout") return problemResponse(new ApiError("origin_timeout"), UNCHARGED);
  return problemResponse(new ApiError("origin_error", "The origin could not be reached."), UNCHARGED);
}

/** A paid retry whose offer already paid for a call (or is paying for one now): nothing happens twice. */
function offerUsed(refused: { code: string; response?: { request_id: string } }): ApiError {
  const first = refused.response?.request_id;
  const detail = "This offer has already paid for a call; ask again for a new one (send the request without payment).";
  return new ApiError("payment_replayed", detail, first ? { request_id: first } : {});
}
