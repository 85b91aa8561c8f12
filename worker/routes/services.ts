import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { Principal } from "../auth/roles";
import { db } from "../db/client";
import { config } from "../env";
import { providers } from "../db/schema";
import { ApiError } from "../errors";
import { PriceRule, type Protocol as ProtocolName, protocolIssues } from "../../core/pricing/rules";
import { Pricing, publicPricing } from "../services/public-pricing";
import { invalidateServices } from "../services/cache";
import { assertClaimable } from "../services/hostnames";
import { assertPublicOrigin } from "../services/origin-policy";
import { PlanView, Protocol, ServiceCreate, ServicePatch, Sla } from "../services/schema";
import { createService, getService, listServices, updateService } from "../services/store";
import { Verification, verificationMaterial } from "../services/verification";
import { serviceTransfers } from "../reports/queries";
import { bearer, errors, IdParams, json, Pagination, router } from "./common";
import { atIdPosition, cursorOf, idPosition } from "./cursor";
import { page } from "./models";
import { managedService } from "./service-access";

/** A custom hostname the service claims; only an `active` one routes calls (docs/OPERATIONS.md, "Custom hostnames"). */
export const HostnameClaim = z
  .object({
    hostname: z.string(),
    status: z.enum(["pending", "active"]).openapi({ description: "`pending` until the operator activates it; only `active` routes calls." }),
    verification: z
      .object({
        type: z.literal("dns_txt"),
        name: z.string().openapi({ example: "_tollgate-challenge.api.example.com" }),
        value: z.string(),
      })
      .openapi({ description: "The TXT record the provider publishes to prove it controls the hostname." }),
    activated_at: z.string().nullable(),
  })
  .openapi("HostnameClaim");

const Service = z
  .object({
    id: z.string(),
    provider_id: z.string(),
    slug: z.string(),
    name: z.string(),
    origin: z.string(),
    currency: z.string().openapi({ description: "ISO 4217: the prices' currency. Only accounts in it may call the service." }),
    hostnames: z.array(HostnameClaim),
    prices: z.array(PriceRule),
    protocol: Protocol,
    timeout_ms: z.number().int(),
    hold_timeout_s: z.number().int(),
    fee_bps: z.number().int().nullable(),
    sla: Sla.nullable().openapi({ description: "Calls answered slower than max_latency_ms are refunded at settlement when refund is full (docs/REFUNDS.md)." }),
    plans: z.array(PlanView).openapi({ description: 'Passes agents can buy (docs/PROVIDERS.md, "Plans"); empty when none.' }),
    listed: z.boolean().openapi({ description: "Shown in the public catalog (GET /v1/catalog)." }),
    created_at: z.string(),
    updated_at: z.string(),
    verification: Verification,
  })
  .openapi("Service");

const SettledTransfer = z
  .object({
    id: z.string(),
    account_id: z.string(),
    seq: z.number().int(),
    kind: z.string(),
    amount: z.number().int(),
    fee: z.number().int(),
    currency: z.string(),
    request_id: z.string().nullable(),
    service_id: z.string().nullable(),
    agent_key_id: z.string().nullable(),
    usage: z.record(z.string(), z.unknown()).nullable(),
    shortfall: z.number().int().openapi({ description: "Usage cost beyond the hold, not captured." }),
    reason: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("SettledTransfer");

/** The provider whose services a principal may manage; undefined for the operator (all). */
function managedBy(p: Principal): string | undefined {
  if (p.role === "operator") return undefined;
  if (p.role === "provider") return p.providerId;
  throw new ApiError("forbidden", "Services are managed by their provider.");
}

/** A 400 when the rules do not suit the protocol (`mcp_tool` on an http service, a meter on an mcp one). */
function assertRulesFitProtocol(protocol: ProtocolName, prices: readonly PriceRule[]): void {
  const issues = protocolIssues(protocol, prices);
  if (issues.length > 0) throw new ApiError("invalid_request", issues.map((i) => `${i.path}: ${i.message}`).join("; "), { errors: issues });
}

/** Services are listed in id order, continuing after a service id. */
const serviceCursor = cursorOf(idPosition("svc"));
/** A service's settled transfers, newest first: continuing below `created_at:id`. */
const transferCursor = cursorOf(atIdPosition("tr"));

export const serviceRoutes = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/services",
      summary: "Create a service (provider; operator with provider_id)",
      security: bearer,
      request: { body: { required: true, content: { "application/json": { schema: ServiceCreate } } } },
      responses: { 201: json(Service, "Created"), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const principal = c.var.principal;
      const input = c.req.valid("json");
      let providerId = managedBy(principal);
      // The take rate is the platform's to set, and an operator creates on a provider's behalf.
      if (providerId && (input.fee_bps !== undefined || input.provider_id !== undefined)) {
        throw new ApiError("forbidden", "fee_bps and provider_id are set by the operator.");
      }
      if (!providerId) {
        if (!input.provider_id) throw new ApiError("invalid_request", "provider_id: required when the operator creates a service");
        const exists = await db(c.env).select({ id: providers.id }).from(providers).where(eq(providers.id, input.provider_id)).get();
        if (!exists) throw new ApiError("not_found", "No such provider.");
        providerId = input.provider_id;
      }
      // SSRF: the gateway fetches this URL from its own network position (origin-policy.ts).
      assertPublicOrigin(input.origin, config(c.env).ALLOW_PRIVATE_ORIGINS);
      assertClaimable(input.hostnames, config(c.env).GATEWAY_HOSTS);
      assertRulesFitProtocol(input.protocol, input.prices);
      const service = await createService(db(c.env), providerId, input);
      invalidateServices();
      return c.json({ ...service, verification: verificationMaterial(c.env, c.req.url) }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/services",
      summary: "List services (provider: its own; operator: all)",
      security: bearer,
      request: { query: Pagination },
      responses: { 200: json(page(Service, "ServicePage")), ...errors(400, 401, 403) },
    }),
    async (c) => {
      const providerId = managedBy(c.var.principal);
      const { limit, cursor } = c.req.valid("query");
      const result = await listServices(db(c.env), { providerId, limit, after: serviceCursor.decode(cursor) });
      const verification = verificationMaterial(c.env, c.req.url);
      return c.json({ data: result.data.map((s) => ({ ...s, verification })), next_cursor: serviceCursor.encode(result.last) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/services/{id}",
      summary: "A service (its provider, operator)",
      security: bearer,
      request: { params: IdParams },
      responses: { 200: json(Service), ...errors(401, 404) },
    }),
    async (c) => {
      const service = await managedService(c, c.req.valid("param").id);
      return c.json({ ...service, verification: verificationMaterial(c.env, c.req.url) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/services/{id}",
      summary: "Change a service (its provider; fee_bps: operator). Listed hostnames keep their state; new ones start pending; currency is fixed",
      security: bearer,
      request: { params: IdParams, body: { required: true, content: { "application/json": { schema: ServicePatch } } } },
      responses: { 200: json(Service), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const principal = c.var.principal;
      const patch = c.req.valid("json");
      const current = await managedService(c, c.req.valid("param").id);
      if (principal.role !== "operator" && patch.fee_bps !== undefined) throw new ApiError("forbidden", "fee_bps is set by the operator.");
      if (patch.origin !== undefined) assertPublicOrigin(patch.origin, config(c.env).ALLOW_PRIVATE_ORIGINS);
      if (patch.hostnames !== undefined) assertClaimable(patch.hostnames, config(c.env).GATEWAY_HOSTS);
      // The currency is fixed: prices, holds in flight and the payers who chose the service were all
      // in it. Sending it back unchanged is fine; another currency needs another service.
      if (patch.currency !== undefined && patch.currency !== current.currency) {
        const message = `fixed at ${current.currency} when the service was created; create another service for ${patch.currency}`;
        throw new ApiError("invalid_request", `currency: ${message}`, { errors: [{ path: "currency", message }] });
      }
      assertRulesFitProtocol(patch.protocol ?? current.protocol, patch.prices ?? current.prices);
      const updated = await updateService(db(c.env), current, patch);
      invalidateServices();
      return c.json({ ...updated, verification: verificationMaterial(c.env, c.req.url) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/services/{id}/transfers",
      summary: "The service's settled charges, newest first, with usage and shortfall (its provider, operator)",
      security: bearer,
      request: { params: IdParams, query: Pagination },
      responses: { 200: json(page(SettledTransfer, "SettledTransferPage")), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const service = await managedService(c, c.req.valid("param").id);
      const { limit, cursor } = c.req.valid("query");
      const result = await serviceTransfers(db(c.env), service.id, limit, transferCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: transferCursor.encode(result.next) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/services/{id}/pricing",
      summary: "What a call to the service costs (public)",
      request: { params: IdParams },
      responses: { 200: json(Pricing), ...errors(404) },
    }),
    async (c) => {
      const service = await getService(db(c.env), c.req.valid("param").id);
      if (!service) throw new ApiError("not_found", "No such service.");
      return c.json(publicPricing(service), 200);
    },
  );
