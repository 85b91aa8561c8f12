import type { DisputeStepResult, OpenDisputeResult } from "../../durable-objects/dispute-types";
import type { BuyPassResult } from "../../durable-objects/pass-types";
import type { CreditResult, RefundResult, ReserveResult, TipResult, UsageReportResult } from "../../durable-objects/types";
import { ApiError } from "../errors";

/**
 * The one mapping from the ledger's refusals (`{ok: false, code}`) to API errors. A code means
 * the same wherever the ledger gives it, and so gets the same answer; where an operation's
 * refusal needs words of its own (what was not found, whose amount was invalid), its function
 * says so beside the others.
 */

type Refused<R> = Exclude<R, { ok: true }>;

/** Why a reserve was refused; a replay is answered, not refused (proxy/idempotency.ts). */
export type ReserveRefusal = Exclude<Refused<ReserveResult>, { code: "idempotency_replay" }>;

/** Codes that are API error codes as they stand, with the code's own title as detail. */
type AsIs = "invalid_key" | "account_frozen" | "key_frozen" | "idempotency_mismatch" | "idempotency_in_flight";

function asIs(code: AsIs): ApiError {
  return new ApiError(code);
}

/** Why the ledger refused a reservation, as the agent's error: nothing forwarded, nothing charged. */
export function reserveRefusal(r: ReserveRefusal): ApiError {
  switch (r.code) {
    case "insufficient_funds": {
      const { price, available, currency } = r;
      return new ApiError("insufficient_funds", `This call may cost ${price} and ${available} is available.`, { price, available, currency });
    }
    case "currency_mismatch": {
      const { account_currency, service_currency } = r;
      const detail = `This service prices in ${service_currency}; the account is in ${account_currency}.`;
      return new ApiError("currency_mismatch", detail, { account_currency, service_currency });
    }
    case "rate_limited":
      return new ApiError("rate_limited", r.detail, { retry_after: r.retry_after }, { "retry-after": String(r.retry_after) });
    case "invalid_key":
    case "account_frozen":
    case "key_frozen":
    case "idempotency_mismatch":
    case "idempotency_in_flight":
      return asIs(r.code);
    case "pass_required":
      return new ApiError("pass_required", "The service sells this call only under a pass: buy one of its plans (GET /v1/services/{id}/pricing).");
    case "invalid_amount":
      // Prices are validated when a service is saved, so this is a gateway bug, not the agent's.
      return new ApiError("internal_error", "The call's price is not a valid amount.");
    default:
      return new ApiError(r.code, r.detail, { mandate_id: r.mandate_id });
  }
}

/** Why the ledger refused a provider's usage report (POST /v1/usage). */
export function usageRefusal(r: Refused<UsageReportResult>): ApiError {
  switch (r.code) {
    case "hold_not_pending":
      return new ApiError("conflict", `This call's hold is already ${r.state}.`, { state: r.state });
    case "not_deferred":
      return new ApiError("conflict", "This call was not priced by deferred usage.");
    default:
      return new ApiError("not_found", "No such request.");
  }
}

/** Why the ledger refused an operator's credit; `currency` is the account's. */
export function creditRefusal(r: Refused<CreditResult>, currency: string): ApiError {
  switch (r.code) {
    case "idempotency_mismatch":
      return asIs(r.code);
    case "invalid_amount":
      // Unlike a reserve's price, a credit's amount is the caller's own input.
      return new ApiError("invalid_request", "amount: a positive integer below 2^53");
    case "amount_out_of_range":
      return new ApiError(
        "amount_out_of_range",
        `This credit would take the account's credits past 2^53 − 1 (${currency} micro-units), the most a balance can hold exactly.`,
      );
    default:
      return new ApiError("not_found", "No such account.");
  }
}

/** A refund's refusal. A charge that is not a capture the caller may refund reads as absent. */
export function refundRefusal(r: Refused<RefundResult>): ApiError {
  switch (r.code) {
    case "idempotency_mismatch":
      return asIs(r.code);
    case "invalid_amount":
      return new ApiError("invalid_request", "amount: a positive integer below 2^53");
    case "refund_exceeds_charge":
      return new ApiError("refund_exceeds_charge", `This charge has ${r.refundable} micro-units left to refund.`, { refundable: r.refundable });
    default:
      return new ApiError("not_found", "No such charge.");
  }
}

/** Why a dispute could not be opened; `windowDays` is the configured dispute window. */
export function openDisputeRefusal(r: Refused<OpenDisputeResult>, windowDays: number): ApiError {
  switch (r.code) {
    case "dispute_exists":
      return new ApiError("dispute_exists", `This charge is already disputed (${r.dispute_id}); a charge is disputed once.`, { dispute_id: r.dispute_id });
    case "dispute_window_closed":
      return new ApiError("dispute_window_closed", `A charge can be disputed for ${windowDays} days after it was made.`);
    case "nothing_to_dispute":
      return new ApiError("nothing_to_dispute", "This charge was refunded in full.");
    default:
      return new ApiError("not_found", "No such charge.");
  }
}

/** Why a provider's answer or the operator's decision was refused. */
export function disputeStepRefusal(r: Refused<DisputeStepResult>): ApiError {
  switch (r.code) {
    case "dispute_closed":
      return new ApiError("dispute_closed", `This dispute is already ${r.status}; its outcome is final.`, { status: r.status });
    case "already_contested":
      return new ApiError("conflict", "This dispute was already contested; the operator decides it.");
    default:
      return new ApiError("not_found", "No such dispute.");
  }
}

/** Why a pass could not be bought: as a call's refusal where the cause is the same (key, mandate, balance). */
export function buyPassRefusal(r: Refused<BuyPassResult>): ApiError {
  switch (r.code) {
    case "not_found":
      return new ApiError("not_found", "No such account.");
    case "invalid_key":
      return new ApiError("invalid_key");
    case "renewal_needs_duration":
      return new ApiError("invalid_request", "auto_renew: only a plan with a duration renews (a call bundle without one is bought again when used up).");
    case "invalid_amount":
      return new ApiError("internal_error", "The plan's price is not a valid amount.");
    case "insufficient_funds": {
      const { price, available, currency } = r;
      return new ApiError("insufficient_funds", `This pass costs ${price} and ${available} is available.`, { price, available, currency });
    }
    default:
      // The rest are a reserve's codes with a reserve's meaning (the switch has taken the others).
      return reserveRefusal(r as ReserveRefusal);
  }
}

/** Why the ledger refused a tip: the same answers as a call's refusals, and the mandate's `max_tip`. */
export function tipRefusal(r: Refused<TipResult>): ApiError {
  switch (r.code) {
    case "insufficient_funds": {
      const { price, available, currency } = r;
      return new ApiError("insufficient_funds", `This tip is ${price} and ${available} is available.`, { price, available, currency });
    }
    case "currency_mismatch": {
      const { account_currency, service_currency } = r;
      const detail = `This service prices in ${service_currency}; the account is in ${account_currency}.`;
      return new ApiError("currency_mismatch", detail, { account_currency, service_currency });
    }
    case "invalid_key":
    case "account_frozen":
    case "key_frozen":
    case "idempotency_mismatch":
      return asIs(r.code);
    case "invalid_amount":
      return new ApiError("invalid_request", "amount: a positive integer below 2^53");
    case "not_found":
      return new ApiError("not_found", "No such account.");
    case "rate_limited":
      return new ApiError("rate_limited", r.detail, { retry_after: r.retry_after }, { "retry-after": String(r.retry_after) });
    default:
      return new ApiError(r.code, r.detail, { mandate_id: r.mandate_id });
  }
}
