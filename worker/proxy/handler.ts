import type { Context } from "hono";
import { presentedKey } from "../auth/principal";
import { hashKey, parseKey } from "../auth/keys";
import { config, type AppEnv } from "../env";
import { ApiError, problemResponse } from "../errors";
import { ledgerFor, type LedgerStub } from "../ledger/stub";
import { charge, matchRule, quote } from "../pricing/rules";
import type { Service } from "../services/store";
import { callOrigin, upstreamUrl } from "./forward";
import { forwardResponseHeaders } from "./headers";

/**
 * One metered call: authorize and reserve (one DO round trip), forward, then capture what is
 * owed (second round trip) or void the hold when the origin failed. The agent's money moves
 * only for a call the origin answered successfully.
 */
export async function proxyCall(c: Context<AppEnv>, service: Service, path: string): Promise<Response> {
  const requestId = c.get("requestId");
  const tag = { "tollgate-request-id": requestId };
  const request = c.req.raw;

  const key = presentedKey(request.headers);
  const parsed = key ? parseKey(key) : null;
  if (!key) throw new ApiError("unauthorized", "Send the agent key as 'Authorization: Bearer <key>' or 'x-api-key'.", {}, tag);
  if (parsed?.kind !== "agent") throw new ApiError("invalid_key", undefined, {}, tag);

  const rule = matchRule(service.prices, request.method, path);
  if (!rule) throw new ApiError("no_price", `No price rule of '${service.slug}' matches ${request.method} ${path}.`, {}, tag);
  const cfg = config(c.env);
  const ledger = ledgerFor(c.env, parsed.objectId);
  const reservation = await ledger.reserve({
    keyHash: await hashKey(key),
    requestId,
    serviceId: service.id,
    providerId: service.provider_id,
    feeBps: service.fee_bps ?? cfg.PLATFORM_FEE_BPS,
    amount: quote(rule),
    ttlMs: service.timeout_ms + cfg.HOLD_TTL_SECONDS * 1000,
  });
  if (!reservation.ok) {
    if (reservation.code === "insufficient_funds") {
      const { price, available, currency } = reservation;
      throw new ApiError("insufficient_funds", `This call costs ${price} and ${available} is available.`, { price, available, currency }, tag);
    }
    throw new ApiError("invalid_key", undefined, {}, tag);
  }

  const holdId = reservation.hold_id;
  const target = upstreamUrl(service.origin, path, new URL(request.url).search);
  const outcome = await callOrigin(request, target, tag, service.timeout_ms);
  if (!outcome.ok) {
    c.executionCtx.waitUntil(ledger.void(holdId, outcome.reason));
    const code = outcome.reason === "origin_timeout" ? "origin_timeout" : "origin_error";
    return problemResponse(new ApiError(code, outcome.reason === "origin_timeout" ? undefined : "The origin could not be reached."), {
      ...tag,
      "tollgate-charge": "0",
    });
  }

  const upstream = outcome.response;
  // Charge only for what worked: an origin error (5xx) or a refused call (4xx) costs nothing.
  if (upstream.status >= 400) {
    c.executionCtx.waitUntil(ledger.void(holdId, `origin_status_${upstream.status}`));
    if (upstream.status >= 500) {
      await upstream.body?.cancel();
      return problemResponse(new ApiError("origin_error", `The origin answered ${upstream.status}.`, { origin_status: upstream.status }), {
        ...tag,
        "tollgate-charge": "0",
      });
    }
    return respond(upstream, { ...tag, "tollgate-charge": "0", "tollgate-balance": String(reservation.available + reservation.amount) });
  }

  const settled = await settle(() => ledgerFor(c.env, parsed.objectId), ledger, holdId, charge(rule));
  if (!settled.ok) {
    // Never serve a call whose charge was lost: drop the body, release the hold, say so.
    await upstream.body?.cancel();
    c.executionCtx.waitUntil(ledger.void(holdId, "settlement_failed").catch(() => undefined));
    return problemResponse(new ApiError("settlement_failed"), { ...tag, "tollgate-charge": "0" });
  }
  return respond(upstream, { ...tag, "tollgate-charge": String(settled.amount), "tollgate-balance": String(settled.available) });
}

/**
 * Captures the hold, retrying once with a fresh stub when the first attempt threw (the DO may
 * have reset). A retry that finds the hold already captured means the first attempt landed.
 */
async function settle(
  freshStub: () => LedgerStub,
  first: LedgerStub,
  holdId: string,
  amount: number,
): Promise<{ ok: true; amount: number; available: number } | { ok: false }> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const ledger = attempt === 0 ? first : freshStub();
    try {
      const result = await ledger.capture(holdId, amount);
      if (result.ok) return { ok: true, amount, available: result.balance.available };
      if (result.code === "hold_not_pending" && result.state === "captured") {
        const hold = await ledger.hold(holdId);
        const balance = await ledger.balance();
        return { ok: true, amount: hold?.captured ?? amount, available: balance?.available ?? 0 };
      }
      console.error("capture refused", holdId, result.code);
      return { ok: false };
    } catch (err) {
      console.error("capture failed", holdId, attempt, String(err));
    }
  }
  return { ok: false };
}

function respond(upstream: Response, extra: Record<string, string>): Response {
  const headers = forwardResponseHeaders(upstream.headers);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
}
