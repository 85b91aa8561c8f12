import { createRoute, z } from "@hono/zod-openapi";
import { sha256Hex } from "../../core/ids";
import { PositiveAmount } from "../../core/pricing/amount";
import { tipRefusal } from "../account-client/refusals";
import { rpc } from "../account-client/rpc";
import { ledgerFor } from "../account-client/stub";
import type { Principal } from "../auth/roles";
import { db } from "../db/client";
import { config } from "../env";
import { ApiError } from "../errors";
import { getService } from "../services/store";
import { bearer, errors, json, jsonBody, router } from "./common";

const TipCreate = z
  .object({
    service_id: z.string().min(1).max(64).openapi({ description: "The service whose provider is tipped (`svc_…`)." }),
    amount: PositiveAmount.openapi({ description: "Micro-units of the account's currency (the service's)." }),
    message: z.string().min(1).max(280).optional().openapi({ description: "A note to the provider, kept as the tip's reason." }),
  })
  .strict()
  .openapi("TipCreate");

const Tip = z
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
    const input = c.req.valid("json");
    const service = await getService(db(c.env), input.service_id);
    if (!service) throw new ApiError("not_found", "No such service.");
    const result = await rpc.tip(ledgerFor(c.env, from.accountId), {
      keyHash: from.keyHash,
      serviceId: service.id,
      serviceSlug: service.slug,
      providerId: service.provider_id,
      currency: service.currency,
      feeBps: config(c.env).TIP_FEE_BPS,
      amount: input.amount,
      message: input.message ?? null,
      idempotencyKey: c.req.valid("header")["idempotency-key"] ?? null,
      fingerprint: await sha256Hex(JSON.stringify([input.service_id, input.amount, input.message ?? null])),
    });
    if (!result.ok) throw tipRefusal(result);
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    const t = result.transfer;
    return c.json(
      {
        id: t.id,
        account_id: from.accountId,
        service_id: service.id,
        provider_id: t.provider_id ?? service.provider_id,
        amount: t.amount,
        fee: t.fee,
        currency: t.currency,
        message: t.reason,
        created_at: t.created_at,
      },
      201,
    );
  },
);
