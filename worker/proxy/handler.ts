import type { Context } from "hono";
import { presentedKey } from "../auth/principal";
import { hashKey, parseKey } from "../auth/keys";
import { config, type AppEnv } from "../env";
import { ApiError, problemResponse } from "../errors";
import { requestIdFor } from "../ids";
import type { CaptureDetail, ReserveInput, ReserveResult, StoredResponse } from "../../durable-objects/types";
import { callLedger } from "../ledger/call";
import { queueSettlement, reserveWithSettlements } from "../ledger/settlements";
import { ledgerFor, type LedgerStub } from "../account-client/stub";
import { parseTagsHeader } from "../ledger/tags";
import { MAX_BOUND_BODY, requestBound } from "../metering/bound";
import { deliver } from "../metering/tap";
import { measure, unitsFromHeader } from "../metering/usage";
import { chargeAtHeaders, matchRule, quote, settlement, type PriceRule, type RequestBound } from "../pricing/rules";
import { originRefusal } from "../services/origin-policy";
import type { Service } from "../services/store";
import { readRequestBody } from "./body";
import { callIdempotency, copyOf, type KeptBody, replay } from "./idempotency";
import { callOrigin, upstreamUrl } from "./forward";
import { forwardResponseHeaders } from "./headers";
import { rewriteLocations, type GatewayPlace } from "./location";
import { keepHoldAlive, keepOnLedger } from "./settle";
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
 * One metered call: authorize and reserve (one DO round trip), forward, then capture what is
 * owed (off the client's path, usually riding with the account's next reserve) or void the hold
 * when the origin failed. The agent's money moves only for a call the origin answered
 * successfully, and never by more than the hold.
 * `base` is where the service lives on the gateway: `/s/{slug}`, or "" on its custom hostname.
 */
export async function proxyCall(c: Context<AppEnv>, service: Service, path: string, base: string): Promise<Response> {
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
  const cfg = config(c.env);
  // A service stored while private origins were allowed (local development) is not fetched once
  // they are not: refused before any money moves (SSRF; origin-policy.ts).
  if (storedOriginRefusal(service, cfg.ALLOW_PRIVATE_ORIGINS) !== null) {
    throw new ApiError("origin_not_allowed", "The service's origin is not a public address; the provider must change it.", {}, { ...tag, "tollgate-charge": "0" });
  }
  // Both before any money moves: a call Tollgate cannot sign, or too large to sign, is refused.
  const { signer } = await signingKeys(c.env);
  const body = await readRequestBody(request, tag);
  const idempotency = await callIdempotency(request, path, body);
  // A reserve may be retried (once, on a fresh stub) only when running it twice is harmless: a
  // GET/HEAD (a second hold just expires) or a keyed call (the DO sees the key: in flight, 409).
  const retry = request.method === "GET" || request.method === "HEAD" || idempotency !== null;
  const reserveInput: ReserveInput = {
    keyHash: await hashKey(key),
    requestId,
    serviceId: service.id,
    providerId: service.provider_id,
    feeBps: service.fee_bps ?? cfg.PLATFORM_FEE_BPS,
    amount: quote(rule, boundOf(request, rule, body)),
    currency: service.currency,
    ttlMs: rule.deferred ? service.hold_timeout_s * 1000 : service.timeout_ms + cfg.HOLD_TTL_SECONDS * 1000,
    deferredRule: rule.deferred ? rule : null,
    serviceSlug: service.slug,
    tags,
    idempotency,
  };
  const fresh = () => ledgerFor(c.env, accountId);
  // The reserve carries this account's queued captures, if any (worker/ledger/settlements.ts).
  const reserve = (stub: LedgerStub): Promise<ReserveResult> => reserveWithSettlements(c.executionCtx, accountId, stub, fresh, reserveInput);
  const reserved = await callLedger(fresh(), fresh, reserve, { retry, headers: tag, what: "reserve" });
  const reservation = reserved.value;
  const ledger = reserved.stub;
  if (!reservation.ok) {
    // A retry of a settled call gets the first call's response: not forwarded, not charged.
    if (reservation.code === "idempotency_replay") return replay(reservation.response);
    throw refusal(reservation, tag);
  }

  try {
    return await forwardAndSettle(c, { service, rule, path, base, accountId, requestId, body, reservation, ledger, signer, idempotent: idempotency !== null, ttlMs: reserveInput.ttlMs });
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
    base: string;
    accountId: string;
    requestId: string;
    body: ArrayBuffer | null;
    reservation: Reserved;
    ledger: LedgerStub;
    signer: Signer;
    idempotent: boolean;
    /** How long the hold lives unless extended (keepHoldAlive extends it by this much). */
    ttlMs: number;
  },
): Promise<Response> {
  const { service, rule, path, base, accountId, requestId, body, reservation, ledger, signer, idempotent, ttlMs } = call;
  const request = c.req.raw;
  const tag = { "tollgate-request-id": requestId };
  const holdId = reservation.hold_id;
  const held = reservation.amount;
  const uncharged = { ...tag, "tollgate-charge": "0" };
  const startedAt = Date.now();
  const target = upstreamUrl(service.origin, path, new URL(request.url).search);
  const charge = chargeContextHeader({ serviceId: service.id, hold: held, currency: reservation.currency, meter: rule.meter ?? "call", deferred: rule.deferred === true });
  const covered = { ...tag, "tollgate-charge-context": charge };
  const signature = await signRequest({ method: request.method, url: target, headers: covered, body, now: Date.now() / 1000, nonce: newNonce(), key: signer });
  const outcome = await callOrigin(request, target, { ...covered, ...signature }, service.timeout_ms, body);
  if (!outcome.ok) {
    c.executionCtx.waitUntil(ledger.void(holdId, outcome.reason));
    const code = outcome.reason === "origin_timeout" ? "origin_timeout" : "origin_error";
    const detail = outcome.reason === "origin_timeout" ? undefined : "The origin could not be reached.";
    return problemResponse(new ApiError(code, detail), uncharged);
  }

  const upstream = outcome.response;
  const place: GatewayPlace = { origin: service.origin, target, request: request.url, base };
  const headersOut = () => {
    const headers = forwardResponseHeaders(upstream.headers);
    rewriteLocations(headers, place);
    return headers;
  };
  // Charge only for what worked: an origin error (5xx) or a refused call (4xx) costs nothing.
  if (upstream.status >= 400) {
    c.executionCtx.waitUntil(ledger.void(holdId, `origin_status_${upstream.status}`));
    if (upstream.status >= 500) {
      await upstream.body?.cancel();
      const failed = new ApiError("origin_error", `The origin answered ${upstream.status}.`, { origin_status: upstream.status });
      return problemResponse(failed, uncharged);
    }
    return respond(upstream, headersOut(), upstream.body, { ...uncharged, "tollgate-balance": String(reservation.available + held) });
  }

  const fresh = () => ledgerFor(c.env, accountId);
  // An idempotent call reads a copy of its response beside the agent's; its key ends with the
  // call, in the capture's own transaction: the copy to replay when the call completed, or freed
  // when it did not (a replay must be exactly what was charged for).
  const [served, copied] = idempotent && upstream.body ? upstream.body.tee() : [upstream.body, null];
  const copy = idempotent ? copyOf(copied) : null;
  const stored = (charge: number | null, kept: KeptBody): StoredResponse | null =>
    kept.complete ? { status: upstream.status, headers: Object.fromEntries(headersOut()), body: kept.base64, request_id: requestId, charge } : null;
  // Settlement is off the client's path (the hold covers the amount meanwhile). A capture waits
  // to ride with the account's next reserve; one that ends an idempotent call's key goes at once.
  const settle = (amount: number, detail: CaptureDetail, keep?: StoredResponse | null) =>
    queueSettlement(c.executionCtx, accountId, keep === undefined ? { holdId, amount, detail } : { holdId, amount, detail, keep }, fresh);
  const whileStreaming = async <T>(work: Promise<T>): Promise<T> => {
    const stop = keepHoldAlive(ledger, fresh, holdId, ttlMs);
    try {
      return await work;
    } finally {
      stop();
    }
  };
  if (chargeAtHeaders(rule)) {
    // The price is known now: the response says what it costs and what is left after it.
    const units = rule.meter === "units" ? unitsFromHeader(upstream.headers) : 0;
    const { amount, shortfall } = settlement(rule, { units }, held);
    const detail = rule.meter === "units" ? { usage: { units }, shortfall } : {};
    if (copy) c.executionCtx.waitUntil(whileStreaming(copy.body).then((kept) => settle(amount, detail, stored(amount, kept))));
    else settle(amount, detail);
    return respond(upstream, headersOut(), served, { ...tag, "tollgate-charge": String(amount), "tollgate-balance": String(reservation.available + held - amount) });
  }

  const pending = { ...tag, "tollgate-hold": String(held) };
  if (rule.deferred) {
    // Deferred: the provider reports usage later (POST /v1/usage); the hold waits for it.
    if (copy) c.executionCtx.waitUntil(copy.body.then((kept) => keepOnLedger(ledger, fresh, holdId, stored(null, kept))));
    return respond(upstream, headersOut(), served, pending);
  }
  if (!served) {
    const { amount } = settlement(rule, {}, held);
    settle(amount, {}, copy ? stored(amount, await copy.body) : undefined);
    return respond(upstream, headersOut(), served, pending);
  }

  // Metered by what streams: pass each chunk through as it arrives, settle when it ends. The
  // hold is kept alive meanwhile, however long the stream runs.
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const meterTokens = rule.meter === "tokens";
  const contentType = upstream.headers.get("content-type") ?? "";
  c.executionCtx.waitUntil(
    (async () => {
      const delivery = await whileStreaming(deliver(served, writable, { startedAt, meterTokens, format: rule.format, contentType }));
      const complete = delivery.outcome === "complete";
      // A call the agent did not get whole is not kept: stop reading the origin for it.
      if (!complete) copy?.cancel();
      if (delivery.outcome === "origin_failed" && rule.on_failure === "none") {
        await ledger.void(holdId, "origin_failed_mid_stream");
        return;
      }
      const { usage, estimated } = measure(rule, delivery, body?.byteLength ?? Number(request.headers.get("content-length") ?? 0));
      const { amount, shortfall } = settlement(rule, usage, held);
      const reason = complete ? "origin_succeeded" : delivery.outcome;
      const keep = copy ? stored(amount, complete ? await copy.body : { complete: false }) : undefined;
      settle(amount, { usage: estimated ? { ...usage, estimated } : usage, shortfall, reason }, keep);
    })(),
  );
  return respond(upstream, headersOut(), readable, pending);
}

/** Why the ledger refused a reservation, as the agent's error: nothing forwarded, nothing charged. */
function refusal(r: Exclude<ReserveResult, { ok: true }>, tag: Record<string, string>): ApiError {
  switch (r.code) {
    case "insufficient_funds": {
      const { price, available, currency } = r;
      return new ApiError("insufficient_funds", `This call may cost ${price} and ${available} is available.`, { price, available, currency }, tag);
    }
    case "currency_mismatch": {
      const { account_currency, service_currency } = r;
      const detail = `This service prices in ${service_currency}; the account is in ${account_currency}.`;
      return new ApiError("currency_mismatch", detail, { account_currency, service_currency }, tag);
    }
    case "rate_limited":
      return new ApiError("rate_limited", r.detail, { retry_after: r.retry_after }, { ...tag, "retry-after": String(r.retry_after) });
    case "invalid_key":
    case "account_frozen":
    case "key_frozen":
    case "idempotency_mismatch":
    case "idempotency_in_flight":
      return new ApiError(r.code, undefined, {}, tag);
    case "idempotency_replay":
      throw new Error("a replay is answered, not refused");
    case "invalid_amount":
      // Prices are validated when a service is saved, so this is a gateway bug, not the agent's.
      return new ApiError("internal_error", "The call's price is not a valid amount.", {}, tag);
    default:
      return new ApiError(r.code, r.detail, { mandate_id: r.mandate_id }, tag);
  }
}

/** For a tokens rule, a JSON request body of modest size bounds the hold by its own `max_tokens`. */
function boundOf(request: Request, rule: PriceRule, body: ArrayBuffer | null): RequestBound | null {
  if (rule.meter !== "tokens" || !body || body.byteLength > MAX_BOUND_BODY) return null;
  if (!(request.headers.get("content-type") ?? "").includes("json")) return null;
  return requestBound(body);
}

function respond(upstream: Response, headers: Headers, body: ReadableStream | null, extra: Record<string, string>): Response {
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return new Response(body, { status: upstream.status, statusText: upstream.statusText, headers });
}
