import type { Context } from "hono";
import { presentedKey } from "../auth/principal";
import { hashKey, parseKey } from "../auth/keys";
import { config, type AppEnv } from "../env";
import { ApiError, problemResponse } from "../errors";
import { requestIdFor } from "../ids";
import type { ReserveResult } from "../../durable-objects/types";
import { ledgerFor, type LedgerStub } from "../ledger/stub";
import { parseTagsHeader } from "../ledger/tags";
import { MAX_BOUND_BODY, requestBound } from "../metering/bound";
import { deliver } from "../metering/tap";
import { measure, unitsFromHeader } from "../metering/usage";
import { chargeAtHeaders, matchRule, quote, settlement, type PriceRule } from "../pricing/rules";
import type { Service } from "../services/store";
import { callOrigin, upstreamUrl } from "./forward";
import { forwardResponseHeaders } from "./headers";
import { captureWithRetry } from "./settle";

/**
 * One metered call: authorize and reserve (one DO round trip), forward, then capture what is
 * owed (second round trip) or void the hold when the origin failed. The agent's money moves
 * only for a call the origin answered successfully, and never by more than the hold.
 */
export async function proxyCall(c: Context<AppEnv>, service: Service, path: string): Promise<Response> {
  const request = c.req.raw;
  const key = presentedKey(request.headers);
  const parsed = key ? parseKey(key) : null;
  const early = { "tollgate-request-id": c.get("requestId") };
  if (!key) throw new ApiError("unauthorized", "Send the agent key as 'Authorization: Bearer <key>' or 'x-api-key'.", {}, early);
  if (parsed?.kind !== "agent") throw new ApiError("invalid_key", undefined, {}, early);
  const accountId = parsed.objectId;
  const requestId = requestIdFor(accountId);
  const tag = { "tollgate-request-id": requestId };

  const rule = matchRule(service.prices, request.method, path);
  if (!rule) throw new ApiError("no_price", `No price rule of '${service.slug}' matches ${request.method} ${path}.`, {}, tag);
  const tags = parseTagsHeader(request.headers.get("tollgate-tags"));
  const body = await readForBound(request, rule);
  const cfg = config(c.env);
  const ledger = ledgerFor(c.env, accountId);
  const reservation = await ledger.reserve({
    keyHash: await hashKey(key),
    requestId,
    serviceId: service.id,
    providerId: service.provider_id,
    feeBps: service.fee_bps ?? cfg.PLATFORM_FEE_BPS,
    amount: quote(rule, body ? requestBound(body) : null),
    ttlMs: rule.deferred ? service.hold_timeout_s * 1000 : service.timeout_ms + cfg.HOLD_TTL_SECONDS * 1000,
    deferredRule: rule.deferred ? rule : null,
    serviceSlug: service.slug,
    tags,
  });
  if (!reservation.ok) {
    if (reservation.code === "insufficient_funds") {
      const { price, available, currency } = reservation;
      throw new ApiError("insufficient_funds", `This call may cost ${price} and ${available} is available.`, { price, available, currency }, tag);
    }
    if (reservation.code === "invalid_key") throw new ApiError("invalid_key", undefined, {}, tag);
    // A mandate refused the call: nothing is forwarded, nothing is charged.
    throw new ApiError(reservation.code, reservation.detail, { mandate_id: reservation.mandate_id }, tag);
  }

  try {
    return await forwardAndSettle(c, { service, rule, path, accountId, requestId, body, reservation, ledger });
  } catch (err) {
    // Whatever broke after the reserve, the hold must not wait for its expiry to be released.
    c.executionCtx.waitUntil(ledger.void(reservation.hold_id, "gateway_error").catch(() => undefined));
    throw err;
  }
}

type Reserved = Extract<ReserveResult, { ok: true }>;

/** Forwards a reserved call and settles its hold by the outcome. */
async function forwardAndSettle(
  c: Context<AppEnv>,
  call: {
    service: Service;
    rule: PriceRule;
    path: string;
    accountId: string;
    requestId: string;
    body: ArrayBuffer | null;
    reservation: Reserved;
    ledger: LedgerStub;
  },
): Promise<Response> {
  const { service, rule, path, accountId, requestId, body, reservation, ledger } = call;
  const request = c.req.raw;
  const tag = { "tollgate-request-id": requestId };
  const holdId = reservation.hold_id;
  const held = reservation.amount;
  const uncharged = { ...tag, "tollgate-charge": "0" };
  const startedAt = Date.now();
  const target = upstreamUrl(service.origin, path, new URL(request.url).search);
  const outcome = await callOrigin(request, target, tag, service.timeout_ms, body);
  if (!outcome.ok) {
    c.executionCtx.waitUntil(ledger.void(holdId, outcome.reason));
    const code = outcome.reason === "origin_timeout" ? "origin_timeout" : "origin_error";
    const detail = outcome.reason === "origin_timeout" ? undefined : "The origin could not be reached.";
    return problemResponse(new ApiError(code, detail), uncharged);
  }

  const upstream = outcome.response;
  // Charge only for what worked: an origin error (5xx) or a refused call (4xx) costs nothing.
  if (upstream.status >= 400) {
    c.executionCtx.waitUntil(ledger.void(holdId, `origin_status_${upstream.status}`));
    if (upstream.status >= 500) {
      await upstream.body?.cancel();
      const failed = new ApiError("origin_error", `The origin answered ${upstream.status}.`, { origin_status: upstream.status });
      return problemResponse(failed, uncharged);
    }
    return respond(upstream, upstream.body, { ...uncharged, "tollgate-balance": String(reservation.available + held) });
  }

  const fresh = () => ledgerFor(c.env, accountId);
  if (chargeAtHeaders(rule)) {
    // The price is known now: settle before the first byte, so a served call is a charged call.
    const units = rule.meter === "units" ? unitsFromHeader(upstream.headers) : 0;
    const { amount, shortfall } = settlement(rule, { units }, held);
    const detail = rule.meter === "units" ? { usage: { units }, shortfall } : {};
    const settled = await captureWithRetry(ledger, fresh, holdId, amount, detail);
    if (!settled.ok) {
      // Never serve a call whose charge was lost: drop the body, release the hold, say so.
      await upstream.body?.cancel();
      c.executionCtx.waitUntil(ledger.void(holdId, "settlement_failed").catch(() => undefined));
      return problemResponse(new ApiError("settlement_failed"), uncharged);
    }
    return respond(upstream, upstream.body, { ...tag, "tollgate-charge": String(settled.amount), "tollgate-balance": String(settled.available) });
  }

  const pending = { ...tag, "tollgate-hold": String(held) };
  if (rule.deferred || !upstream.body) {
    // Deferred: the provider reports usage later (POST /v1/usage); the hold waits for it.
    if (!rule.deferred) c.executionCtx.waitUntil(captureWithRetry(ledger, fresh, holdId, settlement(rule, {}, held).amount, {}));
    return respond(upstream, upstream.body, pending);
  }

  // Metered by what streams: pass each chunk through as it arrives, settle when it ends.
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const meterTokens = rule.meter === "tokens";
  const contentType = upstream.headers.get("content-type") ?? "";
  c.executionCtx.waitUntil(
    (async () => {
      const delivery = await deliver(upstream.body as ReadableStream<Uint8Array>, writable, { startedAt, meterTokens, format: rule.format, contentType });
      if (delivery.outcome === "origin_failed" && rule.on_failure === "none") {
        await ledger.void(holdId, "origin_failed_mid_stream");
        return;
      }
      const { usage, estimated } = measure(rule, delivery, body?.byteLength ?? Number(request.headers.get("content-length") ?? 0));
      const { amount, shortfall } = settlement(rule, usage, held);
      const reason = delivery.outcome === "complete" ? "origin_succeeded" : delivery.outcome;
      await captureWithRetry(ledger, fresh, holdId, amount, { usage: estimated ? { ...usage, estimated } : usage, shortfall, reason });
    })(),
  );
  return respond(upstream, readable, pending);
}

/**
 * For a tokens rule, reads a JSON request body of known, modest size so its `max_tokens` can
 * lower the hold; it is then forwarded from memory. Anything else streams through untouched.
 */
async function readForBound(request: Request, rule: PriceRule): Promise<ArrayBuffer | null> {
  if (rule.meter !== "tokens" || !request.body) return null;
  const length = Number(request.headers.get("content-length") ?? Number.NaN);
  if (!(length >= 0 && length <= MAX_BOUND_BODY)) return null;
  if (!(request.headers.get("content-type") ?? "").includes("json")) return null;
  return request.arrayBuffer();
}

function respond(upstream: Response, body: ReadableStream | null, extra: Record<string, string>): Response {
  const headers = forwardResponseHeaders(upstream.headers);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return new Response(body, { status: upstream.status, statusText: upstream.statusText, headers });
}
