import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "../auth/principal";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { invalidateServices } from "../services/cache";
import { activateHostname } from "../services/hostnames";
import { bearer, errors, json, router } from "./common";
import { HostnameClaim } from "./services";

const HostnameParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { in: "path", name: "id" } }),
  hostname: z
    .string()
    .max(253)
    .openapi({ param: { in: "path", name: "hostname" } }),
});

/**
 * Custom hostnames: a provider claims them on its service (POST/PATCH /v1/services); a claim is
 * pending, and routes nothing, until the operator activates it here, having seen the claim's TXT
 * record in the hostname's DNS (docs/OPERATIONS.md, "Custom hostnames"). Operator only: the provider is the
 * party whose claim is being checked, so it cannot approve its own.
 */
export const hostnameRoutes = router().openapi(
  createRoute({
    method: "post",
    path: "/v1/services/{id}/hostnames/{hostname}/activate",
    summary: "Activate a service's custom hostname once its ownership is proven (operator)",
    security: bearer,
    request: { params: HostnameParams },
    responses: { 200: json(HostnameClaim.extend({ service_id: z.string() }).openapi("ActivatedHostname")), ...errors(401, 403, 404) },
  }),
  async (c) => {
    // Role first: a provider learns nothing about the service or the claim (403, like every operator-only route).
    requireOperator(c.var.principal);
    const { id, hostname } = c.req.valid("param");
    const claim = await activateHostname(db(c.env), id, hostname.toLowerCase());
    if (!claim) throw new ApiError("not_found", "No such hostname on this service.");
    // This isolate routes it at once; others within the service cache's TTL (services/cache.ts).
    invalidateServices();
    return c.json({ ...claim, service_id: id }, 200);
  },
);
