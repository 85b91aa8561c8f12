import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { sha256Hex } from "../../core/ids";
import { PositiveAmount } from "../../core/pricing/amount";
import { requireOperator } from "../auth/principal";
import { db } from "../db/client";
import { type AppEnv, config } from "../env";
import { ApiError } from "../errors";
import { pendingSinceAt } from "../payouts/available";
import { providerBalances } from "../payouts/balance";
import { listPayouts, payoutView } from "../payouts/history";
import { payOut } from "../payouts/pay";
import { providerExists } from "../payouts/provider";
import { toAmount } from "../reports/amount";
import { bearer, Currency, errors, IdParams, json, jsonBody, Pagination, router } from "./common";
import { atIdPosition, cursorOf } from "./cursor";
import { page } from "./models";

const PayoutCreate = z
  .object({
    amount: PositiveAmount.openapi({ description: "Micro-units to pay out; at most what is available." }),
    currency: Currency,
    reference: z.string().min(1).max(200).optional().openapi({ description: "The operator's own reference, e.g. its bank transfer's." }),
  })
  .strict()
  .openapi("PayoutCreate");

const Payout = z
  .object({
    id: z.string().openapi({ example: "po_3k9x0c1v8b7n6m5l4k3j" }),
    provider_id: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    reference: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Payout");

const ProviderBalance = z
  .object({
    provider_id: z.string(),
    balances: z.array(
      z.object({
        currency: z.string(),
        pending: z.number().int().openapi({ description: "Earnings younger than PAYOUT_DELAY_S: not payable yet." }),
        available: z
          .number()
          .int()
          .openapi({ description: "Everything else (refunds and payouts count at once): what a payout may take. Negative when refunds passed it." }),
        paid_out: z.number().int().openapi({ description: "The sum of the provider's payouts." }),
      }),
    ),
  })
  .openapi("ProviderBalance");

const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({ description: "Makes the request safe to retry." }),
});

/** Payouts newest first: continuing below `created_at:id`. */
const payoutCursor = cursorOf(atIdPosition("po"));

/**
 * The provider `id`, for a caller who may read its money: the operator, or the provider itself.
 * Anyone else, and a provider that does not exist, get the same 404 (no existence leak).
 */
async function readableProvider(c: Context<AppEnv>, id: string): Promise<string> {
  const p = c.var.principal;
  if (p.role === "provider" && p.providerId === id) return id;
  if (p.role === "operator" && (await providerExists(db(c.env), id))) return id;
  throw new ApiError("not_found", "No such provider.");
}

const pendingSince = (c: Context<AppEnv>, now: number) => pendingSinceAt(now, config(c.env).PAYOUT_DELAY_S);

export const payoutRoutes = router()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/providers/{id}/balance",
      summary: "A provider's earnings per currency: pending, available, paid out (the provider, operator)",
      security: bearer,
      request: { params: IdParams },
      responses: { 200: json(ProviderBalance), ...errors(400, 401, 404, 422) },
    }),
    async (c) => {
      const id = await readableProvider(c, c.req.valid("param").id);
      const balances = await providerBalances(db(c.env), id, pendingSince(c, Date.now()));
      const exact = (v: bigint, what: string, currency: string) => toAmount(v, `The ${currency} ${what}`);
      return c.json(
        {
          provider_id: id,
          balances: balances.map((b) => ({
            currency: b.currency,
            pending: exact(b.pending, "pending", b.currency),
            available: exact(b.available, "available", b.currency),
            paid_out: exact(b.paid_out, "paid out", b.currency),
          })),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/providers/{id}/payouts",
      summary: "Record a payout to a provider, at most its available balance (operator)",
      security: bearer,
      request: { params: IdParams, headers: IdempotencyHeader, body: jsonBody(PayoutCreate) },
      responses: { 201: json(Payout, "Paid out"), ...errors(400, 401, 403, 404, 422) },
    }),
    async (c) => {
      requireOperator(c.var.principal);
      const { id } = c.req.valid("param");
      if (!(await providerExists(db(c.env), id))) throw new ApiError("not_found", "No such provider.");
      const input = c.req.valid("json");
      const now = Date.now();
      const result = await payOut(c.env.DB, {
        providerId: id,
        amount: input.amount,
        currency: input.currency,
        reference: input.reference ?? null,
        idempotencyKey: c.req.valid("header")["idempotency-key"] ?? null,
        fingerprint: await sha256Hex(JSON.stringify([input.amount, input.currency, input.reference ?? null])),
        now,
        pendingSince: pendingSince(c, now),
      });
      if (!result.ok && result.code === "idempotency_mismatch") {
        throw new ApiError("idempotency_mismatch", "This Idempotency-Key was used for another payout of this provider.");
      }
      if (!result.ok) {
        const available = toAmount(result.available, `The ${input.currency} available balance`);
        throw new ApiError("insufficient_provider_funds", `The provider has ${available} ${input.currency} micro-units available.`, {
          available,
          currency: input.currency,
        });
      }
      if (result.replayed) c.header("Idempotent-Replayed", "true");
      return c.json(payoutView(result.payout), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/providers/{id}/payouts",
      summary: "A provider's payouts, newest first (the provider, operator)",
      security: bearer,
      request: { params: IdParams, query: Pagination },
      responses: { 200: json(page(Payout, "PayoutPage")), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const id = await readableProvider(c, c.req.valid("param").id);
      const { limit, cursor } = c.req.valid("query");
      const result = await listPayouts(db(c.env), id, limit, payoutCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: payoutCursor.encode(result.next) }, 200);
    },
  );
