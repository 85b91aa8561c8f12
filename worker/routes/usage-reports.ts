import { createRoute, z } from "@hono/zod-openapi";
import { requireAccountAccess } from "../auth/principal";
import { db } from "../db/client";
import { currencyOf } from "../accounts/store";
import { ApiError } from "../errors";
import { resolvePeriod } from "../reports/period";
import { GROUP_BY, type GroupBy, usageReport } from "../reports/usage-report";
import { bearer, errors, IdParams, json, router } from "./common";
import { PeriodQuery } from "./period";
import { managedService } from "./service-access";

const UsageQuery = PeriodQuery.extend({
  group_by: z
    .string()
    .regex(GROUP_BY, "service, day or tag:<name> (name: a-z first, then a-z 0-9 _ . -, up to 32)")
    .default("service")
    .openapi({ description: "`service`, `day` (UTC) or `tag:<name>` (e.g. `tag:team`; untagged charges have key null).", example: "tag:team" }),
});

const Totals = { calls: z.number().int(), amount: z.number().int(), fee: z.number().int().openapi({ description: "Platform fee within `amount`." }) };

const UsageReport = z
  .object({
    currency: z.string().optional().openapi({ description: "Present when every group is in one currency." }),
    from: z.string(),
    to: z.string().openapi({ description: "Exclusive." }),
    group_by: z.string(),
    groups: z.array(z.object({ key: z.string().nullable(), currency: z.string(), ...Totals })),
    total: z.object(Totals).nullable().openapi({ description: "All groups; null when they span several currencies (see `totals`)." }),
    totals: z.array(z.object({ currency: z.string(), ...Totals })),
  })
  .openapi("UsageReport");

/** Cost-allocation reports over settled charges (D1), for payers and for providers. */
export const usageReportRoutes = router()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/usage",
      summary: "What the account was charged, grouped by service, day or tag (owner, operator)",
      security: bearer,
      request: { params: IdParams, query: UsageQuery },
      responses: { 200: json(UsageReport), ...errors(400, 401, 404, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      requireAccountAccess(c.var.principal, id);
      const q = c.req.valid("query");
      const period = resolvePeriod(q.from, q.to);
      const currency = await currencyOf(db(c.env), id);
      if (currency === null) throw new ApiError("not_found", "No such account.");
      return c.json(await usageReport(c.env.DB, { accountId: id }, period, q.group_by as GroupBy, currency), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/services/{id}/usage",
      summary: "What the service charged, grouped by service, day or tag, per currency (its provider, operator)",
      security: bearer,
      request: { params: IdParams, query: UsageQuery },
      responses: { 200: json(UsageReport), ...errors(400, 401, 404, 422) },
    }),
    async (c) => {
      const service = await managedService(c, c.req.valid("param").id);
      const q = c.req.valid("query");
      return c.json(await usageReport(c.env.DB, { serviceId: service.id }, resolvePeriod(q.from, q.to), q.group_by as GroupBy), 200);
    },
  );
