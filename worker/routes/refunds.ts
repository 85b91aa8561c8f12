import { createRoute, z } from "@hono/zod-openapi";
import type { Principal } from "../auth/roles";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { sha256Hex } from "../../core/ids";
import { refundRefusal } from "../account-client/refusals";
import { rpc } from "../account-client/rpc";
import { ledgerFor } from "../account-client/stub";
import { PositiveAmount } from "../../core/pricing/amount";
import { chargeOf, listRefunds } from "../reports/refunds";
import { bearer, errors, json, jsonBody, Pagination, router } from "./common";
import { atIdPosition, cursorOf } from "./cursor";
import { page } from "./models";

const RefundCreate = z
  .object({
    transfer_id: z.string().min(1).max(64).openapi({ description: "The charge (a capture transfer, `tr_…`) to refund." }),
    amount: PositiveAmount.optional().openapi({ description: "Micro-units to give back; default: all that is still refundable." }),
    reason: z.string().min(1).max(200).optional(),
  })
  .strict()
  .openapi("RefundCreate");

const Refund = z
  .object({
    id: z.string().openapi({ example: "rf_3k9x0c1v8b7n6m5l4k3j" }),
    transfer_id: z.string().openapi({ description: "The charge refunded." }),
    account_id: z.string().openapi({ description: "The payer, credited `amount`." }),
    amount: z.number().int(),
    fee: z.number().int().openapi({ description: "The part of the charge's platform fee returned (see docs/REFUNDS.md)." }),
    currency: z.string(),
    reason: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Refund");

const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({ description: "Makes the request safe to retry." }),
});

/** Who may refund: the operator (any charge; null) or a provider (its own charges). */
function refunder(p: Principal): string | null {
  if (p.role === "operator") return null;
  if (p.role === "provider") return p.providerId;
  throw new ApiError("forbidden", "Refunds are made by the provider that was paid, or the operator.");
}

/** Refunds newest first: continuing below `created_at:id`. */
const refundCursor = cursorOf(atIdPosition("rf"));

export const refundRoutes = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/refunds",
      summary: "Refund a charge, in part or in full (its provider, operator)",
      security: bearer,
      request: { headers: IdempotencyHeader, body: jsonBody(RefundCreate) },
      responses: { 201: json(Refund, "Refunded"), ...errors(400, 401, 403, 404, 422) },
    }),
    async (c) => {
      const providerId = refunder(c.var.principal);
      const input = c.req.valid("json");
      // D1 names the charge's account; a charge not yet exported (settled under a second ago) is
      // not found yet. Another provider's charge, a credit or a refund are "no such charge" alike.
      const charge = await chargeOf(db(c.env), input.transfer_id);
      if (charge?.kind !== "capture" || (providerId !== null && charge.providerId !== providerId)) {
        throw new ApiError("not_found", "No such charge.");
      }
      const result = await rpc.refund(ledgerFor(c.env, charge.accountId), {
        actor: providerId === null ? "operator" : `provider:${providerId}`,
        transferId: input.transfer_id,
        providerId,
        amount: input.amount ?? null,
        reason: input.reason ?? null,
        idempotencyKey: c.req.valid("header")["idempotency-key"] ?? null,
        fingerprint: await sha256Hex(JSON.stringify([input.transfer_id, input.amount ?? null, input.reason ?? null])),
      });
      if (!result.ok) throw refundRefusal(result);
      if (result.replayed) c.header("Idempotent-Replayed", "true");
      const t = result.transfer;
      return c.json(
        {
          id: t.id,
          transfer_id: t.refund_of ?? input.transfer_id,
          account_id: charge.accountId,
          amount: t.amount,
          fee: t.fee,
          currency: t.currency,
          reason: t.reason,
          created_at: t.created_at,
        },
        201,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/refunds",
      summary: "Refunds, newest first (a provider: of its charges; operator: all)",
      security: bearer,
      request: { query: Pagination },
      responses: { 200: json(page(Refund, "RefundPage")), ...errors(400, 401, 403) },
    }),
    async (c) => {
      const providerId = refunder(c.var.principal);
      const { limit, cursor } = c.req.valid("query");
      const result = await listRefunds(db(c.env), providerId, limit, refundCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: refundCursor.encode(result.next) }, 200);
    },
  );
