import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors";
import { accountOfRequest } from "../../core/ids";
import { usageRefusal } from "../account-client/refusals";
import { rpc } from "../account-client/rpc";
import { ledgerFor } from "../account-client/stub";
import { Price } from "../../core/pricing/amount";
import { bearer, errors, router } from "./common";
import { Transfer } from "./models";

const UsageReport = z
  .object({
    request_id: z.string().max(64).openapi({ description: "The call's tollgate-request-id." }),
    units: Price.openapi({ description: "How many units the call used (priced by its rule)." }),
  })
  .strict()
  .openapi("UsageReportCreate");

const UsageSettled = z
  .object({
    request_id: z.string(),
    hold_id: z.string(),
    held: z.number().int(),
    captured: z.number().int(),
    transfer: Transfer.nullable(),
  })
  .openapi("UsageSettled");

export const usageRoutes = router().openapi(
  createRoute({
    method: "post",
    path: "/v1/usage",
    summary: "Report a deferred call's usage (provider); settles its hold once",
    security: bearer,
    request: { body: { required: true, content: { "application/json": { schema: UsageReport } } } },
    responses: {
      201: { description: "Settled", content: { "application/json": { schema: UsageSettled } } },
      ...errors(400, 401, 403, 404, 409),
    },
  }),
  async (c) => {
    const principal = c.var.principal;
    if (principal.role !== "provider") throw new ApiError("forbidden", "Usage is reported by the service's provider.");
    const { request_id, units } = c.req.valid("json");
    const accountId = accountOfRequest(request_id);
    if (!accountId) throw new ApiError("not_found", "No such request.");
    const result = await rpc.reportUsage(ledgerFor(c.env, accountId), request_id, principal.providerId, units);
    if (!result.ok) throw usageRefusal(result);
    const { hold, transfer } = result;
    return c.json({ request_id, hold_id: hold.id, held: hold.amount, captured: hold.captured ?? 0, transfer }, 201);
  },
);
