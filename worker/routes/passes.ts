import { createRoute, z } from "@hono/zod-openapi";
import type { Pass as PassView } from "../../durable-objects/pass-types";
import { rpc } from "../account-client/rpc";
import { ledgerFor } from "../account-client/stub";
import { requireAccountAccess } from "../auth/principal";
import type { Principal } from "../auth/roles";
import { buyPass } from "../payments/buy-pass";
import { ApiError } from "../errors";
import { bearer, errors, IdParams, json, jsonBody, Pagination, router } from "./common";
import { cursorOf, idPosition } from "./cursor";
import { page } from "./models";

export const PassBuy = z
  .object({
    plan_id: z.string().min(1).max(64).openapi({ description: "The plan to buy (`pln_…`, from the service's pricing)." }),
    auto_renew: z.boolean().optional().openapi({ description: "Renew at the end of each period, while the key's mandate allows it (plans with a duration)." }),
  })
  .strict()
  .openapi("PassBuy");

export const Pass = z
  .object({
    id: z.string().openapi({ example: "pass_3k9x0c1v8b7n6m5l4k3j" }),
    plan_id: z.string(),
    plan_name: z.string(),
    service_id: z.string(),
    provider_id: z.string(),
    price: z.number().int().openapi({ description: "What each period costs, in micro-units." }),
    status: z
      .enum(["active", "used_up", "expired", "lapsed"])
      .openapi({ description: "`lapsed`: a renewal its authorization did not allow (`lapse_reason`)." }),
    starts_at: z.string(),
    expires_at: z.string().nullable().openapi({ description: "Null: a call bundle with no end." }),
    calls: z.number().int().nullable().openapi({ description: "Calls per period; null: no call limit while it lasts." }),
    calls_left: z.number().int().nullable(),
    auto_renew: z.boolean(),
    period: z.number().int().openapi({ description: "1 for the purchase, one more per renewal." }),
    lapse_reason: z.string().nullable(),
    agent_key_id: z.string().nullable().openapi({ description: "The key that bought it; null: the owner." }),
    created_at: z.string(),
  })
  .openapi("Pass");

const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({ description: "Makes the purchase safe to retry." }),
});

/** Passes are bought and cancelled by an account's agent or its owner: the account is theirs. */
function buyer(p: Principal): Extract<Principal, { role: "agent" | "owner" }> {
  if (p.role === "agent" || p.role === "owner") return p;
  throw new ApiError("forbidden", "An account's agent key or owner key buys and cancels its passes.");
}

const passCursor = cursorOf(idPosition("pass"));

export const passRoutes = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/passes",
      summary: "Buy a pass of a service's plan (agent, owner); its price is charged like a call",
      security: bearer,
      request: { headers: IdempotencyHeader, body: jsonBody(PassBuy) },
      responses: { 201: json(Pass, "Bought"), ...errors(400, 401, 402, 403, 404, 409, 422) },
    }),
    async (c) => {
      const p = buyer(c.var.principal);
      const keyHash = p.role === "agent" ? p.keyHash : null;
      const result = await buyPass(c.env, { accountId: p.accountId, keyHash }, c.req.valid("json"), c.req.valid("header")["idempotency-key"] ?? null);
      if (result.replayed) c.header("Idempotent-Replayed", "true");
      return c.json(result.pass satisfies PassView, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/passes",
      summary: "The account's passes, newest first (owner, operator)",
      security: bearer,
      request: { params: IdParams, query: Pagination },
      responses: { 200: json(page(Pass, "PassPage")), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      requireAccountAccess(c.var.principal, id);
      const { limit, cursor } = c.req.valid("query");
      const result = await ledgerFor(c.env, id).passList(limit, passCursor.decode(cursor));
      if (!result) throw new ApiError("not_found", "No such account.");
      return c.json({ data: result.data, next_cursor: passCursor.encode(result.next_cursor) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/passes/{id}",
      summary: "Stop a pass's renewal; it runs to its end (the agent that bought it, the owner)",
      security: bearer,
      request: { params: IdParams },
      responses: { 200: json(Pass, "Renewal stopped"), ...errors(401, 403, 404) },
    }),
    async (c) => {
      const p = buyer(c.var.principal);
      const { id } = c.req.valid("param");
      const result = await rpc.cancelPass(ledgerFor(c.env, p.accountId), { actor: "owner", passId: id, agentKeyHash: p.role === "agent" ? p.keyHash : null });
      if (!result.ok) throw result.code === "invalid_key" ? new ApiError("invalid_key") : new ApiError("not_found", "No such pass.");
      return c.json(result.pass, 200);
    },
  );
