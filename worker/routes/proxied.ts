import { z } from "@hono/zod-openapi";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { Problem } from "./common";

/**
 * The metered proxy is a plain Hono handler (any method, streamed bodies), not a zod-openapi
 * route, so /openapi.json would not list it; this documents it by hand, so every endpoint is
 * in the document. The same calls also work on a service's custom hostname, at `/{path}`, once
 * the operator has activated it (a pending claim routes nothing).
 */
export function documentProxy(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "api_key", { type: "apiKey", in: "header", name: "x-api-key" });
  const header = (description: string) => ({ description, schema: { type: "string" as const } });
  const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });
  for (const method of ["get", "post", "put", "patch", "delete"] as const) {
    app.openAPIRegistry.registerPath({
      method,
      path: "/s/{slug}/{path}",
      summary:
        "A metered call to a service's origin (agent key as Bearer token or x-api-key, or a paid retry of a 402: x402 PAYMENT-SIGNATURE or MPP Authorization: Payment)",
      description: "`path` may hold slashes. Query string and body pass through; the response streams.",
      security: [{ bearer: [] }, { api_key: [] }],
      request: {
        params: z.object({
          slug: z.string().openapi({ param: { in: "path", name: "slug" } }),
          path: z.string().openapi({ param: { in: "path", name: "path" } }),
        }),
      },
      responses: {
        200: {
          description: "The origin's response (any status below 500 is passed through as is).",
          headers: {
            "tollgate-request-id": header("This call's id, also forwarded to the origin."),
            "tollgate-charge": header("What the call cost, in micro-units (when known at the headers)."),
            "tollgate-balance": header("The account's available balance after the charge."),
            "tollgate-refund": header("sla_breach: the origin answered slower than the service's SLA; the charge is refunded in full as it settles."),
            "tollgate-pass": header("The pass that served the call (then tollgate-charge is 0)."),
            "payment-response": header(
              "x402: base64 JSON {success, transaction (the request id), network, payer, amount?} when the call was paid with PAYMENT-SIGNATURE.",
            ),
            "payment-receipt": header(
              "MPP: base64url JSON {method, reference (the request id), status, timestamp} when the call was paid with Authorization: Payment.",
            ),
          },
        },
        400: problem("non_canonical_request (path, userinfo, Host), invalid_request (Transfer-Encoding with Content-Length, control characters)"),
        401: problem("unauthorized, invalid_key"),
        402: {
          ...problem(
            "payment_required (no credential: pay the offer, or send a key), payment_invalid (an altered, expired or foreign offer), insufficient_funds (with price and available), pass_required (a pass-only plan covers the call and the account has no pass of it)",
          ),
          headers: {
            "payment-required": header(
              "x402 v2: base64 JSON {x402Version, error, resource, accepts: [a tollgate-prepaid offer]} (payment_required, payment_invalid, insufficient_funds).",
            ),
            "www-authenticate": header(
              'MPP: Payment id, realm, method="tollgate", intent="charge", request (base64url JSON {amount, currency, recipient, offer}), expires.',
            ),
          },
        },
        403: problem("mandate_*"),
        404: problem("unknown_service, no_price"),
        409: problem(
          "currency_mismatch (the service prices in another currency than the account's: account_currency, service_currency), idempotency_in_flight, payment_replayed (the offer already paid for a call: request_id)",
        ),
        413: problem("payload_too_large (bodies are read whole to be signed; at most 10 MiB)"),
        429: problem("rate_limited (velocity limits, too many failed authentications, an overloaded ledger; see Retry-After)"),
        431: problem("request_header_fields_too_large (a header over 8 KiB, or over 32 KiB in total)"),
        502: problem("origin_error, origin_not_allowed"),
        503: problem("ledger_unavailable"),
        504: problem("origin_timeout"),
      },
    });
  }
}
