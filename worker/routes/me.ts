import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors";
import { agentSelf } from "../auth/agent-view";
import { bearer, errors, router } from "./common";
import { AgentKey, Balance, Mandate } from "./models";

const Me = z
  .object({
    account_id: z.string(),
    key: AgentKey,
    balance: Balance,
    mandate: Mandate.nullable().openapi({ description: "The limits the key's mandate puts on it (null: bounded only by the balance)." }),
  })
  .openapi("Me");

export const meRoutes = router().openapi(
  createRoute({
    method: "get",
    path: "/v1/me",
    summary: "The calling agent's account, key and balance (agent)",
    security: bearer,
    responses: { 200: { description: "OK", content: { "application/json": { schema: Me } } }, ...errors(401) },
  }),
  async (c) => {
    const principal = c.var.principal;
    if (principal.role !== "agent") throw new ApiError("invalid_key", "This endpoint takes an agent key.");
    const view = await agentSelf(c.env, principal);
    return c.json({ account_id: view.account_id, key: view.key, balance: view.balance, mandate: view.mandate }, 200);
  },
);
