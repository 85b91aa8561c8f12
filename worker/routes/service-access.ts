import type { Context } from "hono";
import { db } from "../db/client";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { getService, type Service } from "../services/store";

/**
 * The service `id`, for a caller who manages it: the operator, or the service's own provider.
 * Anyone else, and a service that does not exist, get the same 404 (no existence leak).
 */
export async function managedService(c: Context<AppEnv>, id: string): Promise<Service> {
  const p = c.var.principal;
  if (p.role !== "operator" && p.role !== "provider") throw new ApiError("not_found", "No such service.");
  const service = await getService(db(c.env), id, p.role === "provider" ? p.providerId : undefined);
  if (!service) throw new ApiError("not_found", "No such service.");
  return service;
}
