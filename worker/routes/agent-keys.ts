import { createRoute, z } from "@hono/zod-openapi";
import { actorOf, requireOperator } from "../auth/principal";
import { hashKey, issueKey } from "../auth/keys";
import { ApiError } from "../errors";
import { newId } from "../../core/ids";
import { ledgerFor } from "../account-client/stub";
import { PositiveAmount } from "../../core/pricing/amount";
import { accountLedger, bearer, errors, IdParams, json, jsonBody, KeyParams, Pagination, router } from "./common";
import { cursorOf, idPosition } from "./cursor";
import { AgentKey, page } from "./models";

const Limits = {
  max_calls_per_minute: z.number().int().min(1).max(1_000_000).nullable().optional().openapi({ description: "Calls per minute (null: no limit)." }),
  max_spend_per_minute: PositiveAmount.nullable().optional().openapi({ description: "Held spend per minute, micro-units (null: no limit)." }),
};

const AgentKeyCreate = z
  .object({
    name: z.string().min(1).max(200),
    mandate_id: z.string().max(64).optional().openapi({ description: "Bind the key to this mandate of the account (its limits apply to every call)." }),
    ...Limits,
  })
  .strict()
  .openapi("AgentKeyCreate");
const AgentKeyPatch = z.object(Limits).strict().openapi("AgentKeyPatch");
const AgentKeyCreated = AgentKey.extend({
  account_id: z.string(),
  key: z.string().openapi({ description: "The agent key. Shown once." }),
}).openapi("AgentKeyCreated");
const Frozen = z.object({ frozen: z.boolean() }).strict().openapi("Frozen");

/** Keys are listed in id order, continuing after a key id. */
const keyCursor = cursorOf(idPosition("ak"));

/** Agent keys: issued by the owner, bounded by a mandate and velocity limits, frozen by the operator. */
export const agentKeyRoutes = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/accounts/{id}/agent-keys",
      summary: "Issue an agent key (operator, owner)",
      security: bearer,
      request: { params: IdParams, body: jsonBody(AgentKeyCreate) },
      responses: { 201: json(AgentKeyCreated, "Created"), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const ledger = accountLedger(c, id);
      const key = issueKey("agent", id);
      const limits = { max_calls_per_minute: input.max_calls_per_minute ?? null, max_spend_per_minute: input.max_spend_per_minute ?? null };
      const created = await ledger.createAgentKey({
        id: newId("ak"),
        name: input.name,
        keyHash: await hashKey(key),
        mandateId: input.mandate_id ?? null,
        limits,
        actor: actorOf(c.var.principal),
      });
      if (!created.ok) {
        if (created.code === "not_found") throw new ApiError("not_found", "No such account.");
        throw new ApiError(
          "invalid_request",
          `mandate_id: ${created.code === "mandate_revoked" ? "that mandate is revoked" : "no such mandate on this account"}`,
        );
      }
      return c.json({ ...created.key, account_id: id, key }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/agent-keys",
      summary: "The account's agent keys (operator, owner)",
      security: bearer,
      request: { params: IdParams, query: Pagination },
      responses: { 200: json(page(AgentKey, "AgentKeyPage")), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const result = await accountLedger(c, id).agentKeys(limit, keyCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: keyCursor.encode(result.next_cursor) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/accounts/{id}/agent-keys/{key_id}",
      summary: "Change a key's velocity limits, effective on its next call (operator, owner)",
      security: bearer,
      request: { params: KeyParams, body: jsonBody(AgentKeyPatch) },
      responses: { 200: json(AgentKey), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id, key_id } = c.req.valid("param");
      const updated = await accountLedger(c, id).setKeyLimits({ id: key_id, limits: c.req.valid("json"), actor: actorOf(c.var.principal) });
      if (!updated.ok) throw new ApiError("not_found", "No such agent key.");
      return c.json(updated.key, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/accounts/{id}/agent-keys/{key_id}",
      summary: "Revoke an agent key, effective on its next call (operator, owner)",
      security: bearer,
      request: { params: KeyParams },
      responses: { 200: json(AgentKey, "Revoked"), ...errors(401, 404) },
    }),
    async (c) => {
      const { id, key_id } = c.req.valid("param");
      const revoked = await accountLedger(c, id).revokeAgentKey({ id: key_id, actor: actorOf(c.var.principal) });
      if (!revoked.ok) throw new ApiError("not_found", "No such agent key.");
      return c.json(revoked.key, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/accounts/{id}/agent-keys/{key_id}/frozen",
      summary: "Kill switch: freeze or unfreeze one agent key at once (operator)",
      security: bearer,
      request: { params: KeyParams, body: jsonBody(Frozen) },
      responses: { 200: json(AgentKey), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      requireOperator(c.var.principal);
      const { id, key_id } = c.req.valid("param");
      const frozen = await ledgerFor(c.env, id).freezeKey({ id: key_id, frozen: c.req.valid("json").frozen, actor: "operator" });
      if (!frozen.ok) throw new ApiError("not_found", "No such agent key.");
      return c.json(frozen.key, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/accounts/{id}/frozen",
      summary: "Kill switch: freeze or unfreeze every call of an account at once (operator)",
      security: bearer,
      request: { params: IdParams, body: jsonBody(Frozen) },
      responses: { 200: json(Frozen), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      requireOperator(c.var.principal);
      const result = await ledgerFor(c.env, c.req.valid("param").id).freezeAccount({ frozen: c.req.valid("json").frozen, actor: "operator" });
      if (!result.ok) throw new ApiError("not_found", "No such account.");
      return c.json({ frozen: result.frozen }, 200);
    },
  );
