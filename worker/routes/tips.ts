import { createRoute, z } from "@hono/zod-openapi";
import { PositiveAmount } from "../../core/pricing/amount";
import type { Principal } from "../auth/roles";
import { sendTip } from "../payments/send-tip";
import { ApiError } from "../errors";
import { bearer, errors, json, jsonBody, router } from "./common";

export const TipCreate = z
  .object({
    service_id: z.string().min(1).max(64).openapi({ description: "The service whose provider is tipped (`svc_…`)." }),
    amount: PositiveAmount.openapi({ description: "Micro-units of the account's currency (the service's)." }),
    message: z.string().min(1).max(280).optional().openapi({ description: "A note to the provider, kept as the tip's reason." }),
  })
  .strict()
  .openapi("TipCreate");

export const Tip = z
  .object({
    id: z.string().openapi({ example: "tip_3k9x0c1v8b7n6m5l4k3j" }),
    account_id: z.string().openapi({ description: "The payer, debited `amount`." }),
    service_id: z.string(),
    provider_id: z.string().openapi({ description: "The provider, credited `amount - fee`." }),
    amount: z.number().int(),
    fee: z.number().int().openapi({ description: "The platform's part (`TIP_FEE_BPS`)." }),
    currency: z.string(),
    message: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Tip");

const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({ description: "Makes the request safe to retry." }),
});

/** Who may tip: an agent key (within its mandate) or the account's owner, from their own account. */
function tipper(p: Principal): { accountId: string; keyHash: string | null } {
  if (p.role === "agent") return { accountId: p.accountId, keyHash: p.keyHash };
  if (p.role === "owner") return { accountId: p.accountId, keyHash: null };
  throw new ApiError("forbidden", "Tips are given by an account's agent keys or its owner.");
}

export const tipRoutes = router().openapi(
  createRoute({
    method: "post",
    path: "/v1/tips",
    summary: "Tip a service's provider from the account (agent key within its mandate, owner)",
    security: bearer,
    request: { headers: IdempotencyHeader, body: jsonBody(TipCreate) },
    responses: { 201: json(Tip, "Tipped"), ...errors(400, 401, 402, 403, 404, 409, 422) },
  }),
  async (c) => {
    const from = tipper(c.var.principal);
    const { tip, replayed } = await sendTip(c.env, from, c.req.valid("json"), c.req.valid("header")["idempotency-key"] ?? null);
    if (replayed) c.header("Idempotent-Replayed", "true");
    return c.json(tip, 201);
  },
);
