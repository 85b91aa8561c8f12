import { createRoute, z } from "@hono/zod-openapi";
import { db } from "../db/client";
import { uncollectedCalls } from "../reports/uncollected";
import { bearer, errors, IdParams, json, Pagination, router } from "./common";
import { atIdPosition, cursorOf } from "./cursor";
import { page } from "./models";
import { managedService } from "./service-access";

const UncollectedCall = z
  .object({
    request_id: z.string().nullable(),
    account_id: z.string(),
    agent_key_id: z.string().nullable(),
    amount: z.number().int().openapi({ description: "What the call would have been charged, in micro-units." }),
    currency: z.string(),
    reason: z.string().nullable().openapi({ description: "Why nothing was charged, e.g. `hold_expired`." }),
    at: z.string(),
  })
  .openapi("UncollectedCall");

/** Uncollected calls, newest first: continuing below `at:request_id`. */
const uncollectedCursor = cursorOf(atIdPosition("req"));

/** A provider sees every call of its services that was served but could not be charged. */
export const uncollectedRoutes = router().openapi(
  createRoute({
    method: "get",
    path: "/v1/services/{id}/uncollected",
    summary: "Calls the service served that could not be charged (their hold had expired), newest first (its provider, operator)",
    security: bearer,
    request: { params: IdParams, query: Pagination },
    responses: { 200: json(page(UncollectedCall, "UncollectedCallPage")), ...errors(400, 401, 404) },
  }),
  async (c) => {
    const service = await managedService(c, c.req.valid("param").id);
    const { limit, cursor } = c.req.valid("query");
    const result = await uncollectedCalls(db(c.env), service.id, limit, uncollectedCursor.decode(cursor));
    return c.json({ data: result.data, next_cursor: uncollectedCursor.encode(result.next) }, 200);
  },
);
