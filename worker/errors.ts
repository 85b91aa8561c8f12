import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The closed set of error codes Tollgate answers with, and the HTTP status of each. */
const STATUS = {
  invalid_request: 400,
  non_canonical_request: 400,
  unauthorized: 401,
  invalid_key: 401,
  insufficient_funds: 402,
  pass_required: 402,
  payment_required: 402,
  payment_invalid: 402,
  forbidden: 403,
  account_frozen: 403,
  key_frozen: 403,
  mandate_revoked: 403,
  mandate_not_started: 403,
  mandate_expired: 403,
  mandate_service_not_allowed: 403,
  mandate_per_call_exceeded: 403,
  mandate_exceeded: 403,
  mandate_tip_not_allowed: 403,
  mandate_tip_exceeded: 403,
  signup_closed: 403,
  not_found: 404,
  unknown_service: 404,
  no_price: 404,
  conflict: 409,
  hostname_taken: 409,
  hostname_reserved: 409,
  currency_mismatch: 409,
  idempotency_in_flight: 409,
  payment_replayed: 409,
  dispute_exists: 409,
  dispute_closed: 409,
  idempotency_mismatch: 422,
  amount_out_of_range: 422,
  refund_exceeds_charge: 422,
  dispute_window_closed: 422,
  nothing_to_dispute: 422,
  insufficient_provider_funds: 422,
  payload_too_large: 413,
  rate_limited: 429,
  request_header_fields_too_large: 431,
  internal_error: 500,
  origin_error: 502,
  origin_not_allowed: 502,
  ledger_unavailable: 503,
  origin_timeout: 504,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof STATUS;

/** Every error code, in the map's order: the closed enum of the Problem schema in /openapi.json. */
export const ERROR_CODES = Object.keys(STATUS) as [ErrorCode, ...ErrorCode[]];

const TITLES: Record<ErrorCode, string> = {
  invalid_request: "The request is not valid",
  non_canonical_request: "The request target is not canonical",
  unauthorized: "A credential is required",
  invalid_key: "The key is not valid",
  insufficient_funds: "The account cannot cover this call",
  pass_required: "This call needs a pass",
  payment_required: "This call must be paid",
  payment_invalid: "The payment does not match an offer the gateway made",
  payment_replayed: "This offer has already paid for a call",
  forbidden: "This credential may not do that",
  account_frozen: "The account is frozen",
  key_frozen: "The key is frozen",
  mandate_revoked: "The key's mandate was revoked",
  mandate_not_started: "The key's mandate is not valid yet",
  mandate_expired: "The key's mandate has expired",
  mandate_service_not_allowed: "The key's mandate does not allow this service",
  mandate_per_call_exceeded: "This call may cost more than the mandate allows per call",
  mandate_exceeded: "This call would exceed the mandate's cap",
  mandate_tip_not_allowed: "The key's mandate allows no tips",
  mandate_tip_exceeded: "This tip is more than the key's mandate allows per tip",
  signup_closed: "Self-serve sign-up is closed on this gateway",
  not_found: "Not found",
  unknown_service: "No service answers at this address",
  no_price: "No price rule matches this call",
  conflict: "The request conflicts with the current state",
  hostname_taken: "The hostname is already claimed",
  hostname_reserved: "The hostname is the gateway's own",
  currency_mismatch: "The service prices in another currency than the account's",
  idempotency_in_flight: "A request with this Idempotency-Key is still running",
  dispute_exists: "This charge is already disputed",
  dispute_closed: "The dispute is no longer open",
  idempotency_mismatch: "This Idempotency-Key was used with another request",
  amount_out_of_range: "The amount is past what Tollgate can represent exactly",
  refund_exceeds_charge: "The refunds would exceed the charge",
  dispute_window_closed: "The charge is too old to dispute",
  nothing_to_dispute: "Nothing of this charge is left to dispute",
  insufficient_provider_funds: "The provider's available balance cannot cover this payout",
  payload_too_large: "The request is too large",
  rate_limited: "Too many requests",
  request_header_fields_too_large: "The request's headers are too large",
  internal_error: "Internal error",
  origin_error: "The service's origin failed",
  origin_not_allowed: "The service's origin is not a public address",
  ledger_unavailable: "The account's ledger is unavailable",
  origin_timeout: "The service's origin did not answer in time",
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

/** The one error class: thrown anywhere, rendered as problem+json by `app.onError`. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    /** Extra members for the problem document (e.g. `price` and `available` on a 402). */
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? TITLES[code]);
    this.name = "ApiError";
  }

  get status(): ContentfulStatusCode {
    return STATUS[this.code];
  }
}

/** An RFC 9457 problem document. */
export function problem(code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}) {
  return {
    type: `https://tollgate.dev/problems/${code.replaceAll("_", "-")}`,
    title: TITLES[code],
    status: STATUS[code],
    detail: detail ?? TITLES[code],
    code,
    ...extra,
  };
}

export function problemResponse(err: ApiError, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem(err.code, err.message, err.extra)), {
    status: err.status,
    headers: { "content-type": "application/problem+json", ...err.headers, ...headers },
  });
}

/** `app.onError`: every failure leaves as problem+json; unknown errors are logged, never leaked. */
export function renderError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return problemResponse(err);
  if (isHttpException(err)) {
    const code: ErrorCode = err.status === 413 ? "payload_too_large" : err.status === 401 ? "unauthorized" : "invalid_request";
    return problemResponse(new ApiError(code, err.message || undefined));
  }
  console.error("unhandled error", c.req.method, c.req.path, err);
  return problemResponse(new ApiError("internal_error"));
}

/** Hono's own errors (e.g. "Malformed JSON in request body"). Its class leaves `name` as "Error". */
function isHttpException(err: Error): err is Error & { status: number } {
  return err instanceof HTTPException;
}
