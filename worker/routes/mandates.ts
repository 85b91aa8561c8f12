import { createRoute, z } from "@hono/zod-openapi";
import { actorOf } from "../auth/principal";
import { ApiError } from "../errors";
import { TagsSchema } from "../../core/tags";
import { PositiveAmount, Price } from "../../core/pricing/amount";
import { Slug } from "../services/schema";
import { accountLedger, bearer, errors, IdParams, json, MandateParams, Pagination, router } from "./common";
import { cursorOf, idPosition } from "./cursor";
import { Mandate, page } from "./models";

const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: "2026-12-31T23:59:59Z" });

const MandateCreate = z
  .object({
    intent: z.string().min(1).max(2000).openapi({ description: "The user's own words for what the agent may do." }),
    max_total: PositiveAmount,
    max_per_call: PositiveAmount,
    max_per_day: PositiveAmount.optional(),
    valid_from: Timestamp.optional().openapi({ description: "Default: now." }),
    valid_until: Timestamp,
    services: z.array(Slug).min(1).max(100).optional().openapi({ description: "Allowed service slugs; absent = any service." }),
    tags: TagsSchema.optional(),
    max_tip: Price.optional().openapi({ description: "The most one tip may be (0: no tips); absent = tips within the other limits." }),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.max_per_call > m.max_total) ctx.addIssue({ code: "custom", path: ["max_per_call"], message: "must not exceed max_total" });
    if (m.max_per_day !== undefined && m.max_per_day > m.max_total)
      ctx.addIssue({ code: "custom", path: ["max_per_day"], message: "must not exceed max_total" });
    const from = m.valid_from ? Date.parse(m.valid_from) : Date.now();
    if (Date.parse(m.valid_until) <= from) ctx.addIssue({ code: "custom", path: ["valid_until"], message: "must be after valid_from (and in the future)" });
  })
  .openapi("MandateCreate");

/** Mandates are listed in id order, continuing after a mandate id. */
const mandateCursor = cursorOf(idPosition("mnd"));

/** Mandates: the user's spending authority for agents, enforced by the account's ledger on every hold. */
export const mandateRoutes = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/accounts/{id}/mandates",
      summary: "Authorize agents to spend within limits (owner, operator); immutable once created",
      security: bearer,
      request: { params: IdParams, body: { required: true, content: { "application/json": { schema: MandateCreate } } } },
      responses: { 201: json(Mandate, "Created"), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const m = c.req.valid("json");
      const created = await accountLedger(c, id).createMandate({
        mandate: {
          intent: m.intent,
          max_total: m.max_total,
          max_per_call: m.max_per_call,
          max_per_day: m.max_per_day ?? null,
          valid_from: m.valid_from ? Date.parse(m.valid_from) : Date.now(),
          valid_until: Date.parse(m.valid_until),
          services: m.services ?? null,
          tags: m.tags ?? null,
          max_tip: m.max_tip ?? null,
        },
        actor: actorOf(c.var.principal),
      });
      if (!created.ok) throw new ApiError("not_found", "No such account.");
      return c.json(created.mandate, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/mandates",
      summary: "The account's mandates with what each has spent and holds (owner, operator)",
      security: bearer,
      request: { params: IdParams, query: Pagination },
      responses: { 200: json(page(Mandate, "MandatePage")), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const result = await accountLedger(c, id).mandates(limit, mandateCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: mandateCursor.encode(result.next_cursor) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/mandates/{mandate_id}",
      summary: "One mandate (owner, operator)",
      security: bearer,
      request: { params: MandateParams },
      responses: { 200: json(Mandate), ...errors(401, 404) },
    }),
    async (c) => {
      const { id, mandate_id } = c.req.valid("param");
      const mandate = await accountLedger(c, id).mandate(mandate_id);
      if (!mandate) throw new ApiError("not_found", "No such mandate.");
      return c.json(mandate, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/accounts/{id}/mandates/{mandate_id}",
      summary: "Revoke a mandate, effective on the next call (owner, operator)",
      security: bearer,
      request: { params: MandateParams },
      responses: { 200: json(Mandate, "Revoked"), ...errors(401, 404) },
    }),
    async (c) => {
      const { id, mandate_id } = c.req.valid("param");
      const revoked = await accountLedger(c, id).revokeMandate({ id: mandate_id, actor: actorOf(c.var.principal) });
      if (!revoked.ok) throw new ApiError("not_found", "No such mandate.");
      return c.json(revoked.mandate, 200);
    },
  );
