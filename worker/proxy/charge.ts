import type { Lifetime } from "../account-client/capture-queue";
import type { Hold } from "../account-client/hold";
import type { StoredResponse } from "../../durable-objects/types";
import { ApiError, problemResponse } from "../errors";
import { deliver } from "../metering/tap";
import { type ToolAnswer, toolSettlement } from "../metering/mcp";
import { measure, unitsFromHeader } from "../metering/usage";
import { chargeAtHeaders, settlement, type PriceRule } from "../../core/pricing/rules";
import { copyOf, type KeptBody } from "./idempotency";
import { forwardResponseHeaders } from "./headers";
import { rewriteLocations, type GatewayPlace } from "./location";

/** A response that charged nothing. */
export const UNCHARGED: Readonly<Record<string, string>> = { "tollgate-charge": "0" };

/**
 * A call the origin answered, on its way back to the agent: it is answered at once, and its hold
 * is then captured (what the call cost, by its price rule) or released (the origin refused or
 * failed: charge only for what worked). Capturing is off the client's path: the hold covers the
 * amount meanwhile.
 */
export class ServedCall {
  constructor(
    private readonly ctx: Lifetime,
    private readonly upstream: Response,
    private readonly hold: Hold,
    private readonly place: GatewayPlace,
  ) {}

  get status(): number {
    return this.upstream.status;
  }

  /** The origin refused the call (4xx) or failed (5xx): the hold is released, nothing charged. */
  async refused(): Promise<Response> {
    const { upstream, hold } = this;
    hold.release(`origin_status_${upstream.status}`);
    if (upstream.status >= 500) {
      await upstream.body?.cancel();
      return problemResponse(new ApiError("origin_error", `The origin answered ${upstream.status}.`, { origin_status: upstream.status }), UNCHARGED);
    }
    return this.respond(upstream.body, { ...UNCHARGED, "tollgate-balance": String(hold.available + hold.amount) });
  }

  /**
   * Answers a successful call and charges it by `rule`: at once when the price is known from
   * the headers, when the stream ends when metered by what streams, or never here when the
   * provider reports usage later (deferred). `keep` (the call's request id) when the call had an
   * Idempotency-Key: a copy of its response is read beside the agent's and ends the key with the
   * capture, in the same transaction (a replay must be exactly what was charged for).
   */
  async respondThenCharge(rule: PriceRule, keep: string | null, startedAt: number, requestBytes: number): Promise<Response> {
    const { ctx, upstream, hold } = this;
    const [served, copied] = keep !== null && upstream.body ? upstream.body.tee() : [upstream.body, null];
    const copy = keep !== null ? copyOf(copied) : null;
    const stored = (charge: number | null, kept: KeptBody): StoredResponse | null =>
      kept.complete && keep !== null ? { status: upstream.status, headers: this.keptHeaders(), body: kept.base64, request_id: keep, charge } : null;

    if (chargeAtHeaders(rule)) {
      // The price is known now: the response says what it costs and what is left after it.
      const units = rule.meter === "units" ? unitsFromHeader(upstream.headers) : 0;
      const { amount, shortfall } = settlement(rule, { units }, hold.amount);
      const detail = rule.meter === "units" ? { usage: { units }, shortfall } : {};
      if (copy) ctx.waitUntil(hold.keptAliveDuring(copy.body).then((kept) => hold.capture(amount, detail, stored(amount, kept))));
      else hold.capture(amount, detail);
      const charged = { "tollgate-charge": String(amount), "tollgate-balance": String(hold.available + hold.amount - amount) };
      // A breach refunds the whole charge as it lands: the balance after the call is as before it.
      if (hold.refundOnCapture === undefined || amount === 0) return this.respond(served, charged);
      return this.respond(served, this.withRefund({ ...charged, "tollgate-balance": String(hold.available + hold.amount) }));
    }

    if (rule.deferred) {
      // Deferred: the provider reports usage later (POST /v1/usage); the hold waits for it. Its
      // capture is not the Worker's, so an SLA breach is not carried to it (docs/REFUNDS.md).
      if (copy) ctx.waitUntil(copy.body.then((kept) => hold.keepResponse(stored(null, kept))));
      return this.respond(served, { "tollgate-hold": String(hold.amount) });
    }
    const pending = this.withRefund({ "tollgate-hold": String(hold.amount) });
    if (!served) {
      const { amount } = settlement(rule, {}, hold.amount);
      hold.capture(amount, {}, copy ? stored(amount, await copy.body) : undefined);
      return this.respond(served, pending);
    }

    // Metered by what streams: pass each chunk through as it arrives, charge when it ends. The
    // hold is kept alive meanwhile, however long the stream runs.
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const meterTokens = rule.meter === "tokens";
    const contentType = upstream.headers.get("content-type") ?? "";
    ctx.waitUntil(
      (async () => {
        const delivery = await hold.keptAliveDuring(deliver(served, writable, { startedAt, meterTokens, format: rule.format, contentType }));
        const complete = delivery.outcome === "complete";
        // A call the agent did not get whole is not kept: stop reading the origin for it.
        if (!complete) copy?.cancel();
        if (delivery.outcome === "origin_failed" && rule.on_failure === "none") {
          hold.release("origin_failed_mid_stream");
          return;
        }
        const { usage, estimated } = measure(rule, delivery, requestBytes);
        const { amount, shortfall } = settlement(rule, usage, hold.amount);
        const reason = complete ? "origin_succeeded" : delivery.outcome;
        const kept = copy ? stored(amount, complete ? await copy.body : { complete: false }) : undefined;
        hold.capture(amount, { usage: estimated ? { ...usage, estimated } : usage, shortfall, reason }, kept);
      })(),
    );
    return this.respond(readable, pending);
  }

  /**
   * An MCP tool call: its answer streams to the agent untouched, and once it has passed the hold
   * is captured at the rule's `per_call` — or released when the answer was a JSON-RPC error or a
   * result with `isError: true` (metering/mcp.ts `toolSettlement`).
   */
  async respondThenChargeTool(rule: PriceRule, answer: ToolAnswer, startedAt: number): Promise<Response> {
    const { ctx, upstream, hold } = this;
    const pending = this.withRefund({ "tollgate-hold": String(hold.amount) });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const body = upstream.body ?? new Response("").body;
    if (!body) throw new Error("an empty body stream");
    const contentType = upstream.headers.get("content-type") ?? "";
    ctx.waitUntil(
      (async () => {
        const delivery = await hold.keptAliveDuring(deliver(body, writable, { startedAt, meterTokens: false, contentType, observer: answer }));
        const settled = toolSettlement(answer.outcome, delivery.outcome);
        if (!settled.charge) return hold.release(settled.reason);
        const { amount } = settlement(rule, {}, hold.amount);
        hold.capture(amount, { reason: settled.reason });
      })(),
    );
    return this.respond(readable, pending);
  }

  /**
   * `tollgate-refund: sla_breach` when the call's charge is refunded in full as it lands (its
   * origin answered slower than the service's SLA): the agent knows before the body arrives.
   */
  private withRefund(extra: Record<string, string>): Record<string, string> {
    return this.hold.refundOnCapture === undefined ? extra : { ...extra, "tollgate-refund": this.hold.refundOnCapture };
  }

  /** The headers a replay of this call gets: the origin's, and whether its charge was refunded. */
  private keptHeaders(): Record<string, string> {
    return this.withRefund(Object.fromEntries(this.headers()));
  }

  /** The origin's response headers for the agent: hop-by-hop and `tollgate-*` dropped, redirects rewritten. */
  private headers(): Headers {
    const headers = forwardResponseHeaders(this.upstream.headers);
    rewriteLocations(headers, this.place);
    return headers;
  }

  private respond(body: ReadableStream | null, extra: Record<string, string>): Response {
    const headers = this.headers();
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    // A call a pass served says which: its charge is 0 whatever its price rule would have made it.
    if (this.hold.passId !== null) headers.set("tollgate-pass", this.hold.passId);
    return new Response(body, { status: this.upstream.status, statusText: this.upstream.statusText, headers });
  }
}
