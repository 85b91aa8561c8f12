import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "../auth/principal";
import { issueKey, hashKey } from "../auth/keys";
import { db } from "../db/client";
import { providers } from "../db/schema";
import { newId } from "../../core/ids";
import { bearer, errors, router } from "./common";

const ProviderCreate = z
  .object({ name: z.string().min(1).max(200) })
  .strict()
  .openapi("ProviderCreate");
const ProviderCreated = z
  .object({
    id: z.string(),
    name: z.string(),
    api_key: z.string().openapi({ description: "The provider's key. Shown once." }),
    created_at: z.string(),
  })
  .openapi("ProviderCreated");

export const providerRoutes = router().openapi(
  createRoute({
    method: "post",
    path: "/v1/providers",
    summary: "Register a provider (operator)",
    security: bearer,
    request: { body: { required: true, content: { "application/json": { schema: ProviderCreate } } } },
    responses: { 201: { description: "Created", content: { "application/json": { schema: ProviderCreated } } }, ...errors(400, 401, 403) },
  }),
  async (c) => {
    requireOperator(c.var.principal);
    const { name } = c.req.valid("json");
    const id = newId("prov");
    const apiKey = issueKey("prov", id);
    const now = Date.now();
    await db(c.env)
      .insert(providers)
      .values({ id, name, keyHash: await hashKey(apiKey), createdAt: now });
    return c.json({ id, name, api_key: apiKey, created_at: new Date(now).toISOString() }, 201);
  },
);
