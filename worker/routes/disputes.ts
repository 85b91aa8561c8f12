import { createRoute, z } from "@hono/zod-openapi";
import { DISPUTE_REASONS } from "../../durable-objects/dispute-types";
import { disputeStepRefusal, openDisputeRefusal } from "../account-client/refusals";
import { rpc } from "../account-client/rpc";
import { ledgerFor } from "../account-client/stub";
import { actorOf, requireAccountAccess } from "../auth/principal";
import type { Principal } from "../auth/roles";
import { db } from "../db/client";
import { config, type Env } from "../env";
import { ApiError } from "../errors";
import { type DisputeScope, disputeOwners, listDisputes } from "../reports/disputes";
import { accountLedger, bearer, errors, IdParams, json, jsonBody, Pagination, router } from "./common";
import { atIdPosition, cursorOf } from "./cursor";
import { page } from "./models";

const DisputeCreate = z
  .object({
    transfer_id: z.string().min(1).max(64).openapi({ description: "The charge (a capture, `tr_…`) disputed." }),
    reason: z.enum(DISPUTE_REASONS).openapi({ description: "`unauthorized` is compensated at once; the others wait for the outcome." }),
    detail: z.string().min(1).max(2000).optional(),
  })
  .strict()
  .openapi("DisputeCreate");

const DisputeResponse = z
  .object({
    accept: z.boolean().openapi({ description: "`true` refunds the charge from the provider's earnings; `false` contests it." }),
    evidence: z.string().min(1).max(10_000).optional().openapi({ description: "Why the charge stands: required to contest, refused with an acceptance." }),
  })
  .strict()
  .refine((r) => r.accept === (r.evidence === undefined), {
    message: "evidence: required to contest (accept: false), and only then",
    path: ["evidence"],
  })
  .openapi("DisputeResponse");

const DisputeResolution = z
  .object({ winner: z.enum(["payer", "provider"]) })
  .strict()
  .openapi("DisputeResolution");

const Dispute = z
  .object({
    id: z.string().openapi({ example: "dp_3k9x0c1v8b7n6m5l4k3j" }),
    account_id: z.string(),
    transfer_id: z.string().openapi({ description: "The disputed charge." }),
    provider_id: z.string().nullable(),
    service_id: z.string().nullable(),
    reason: z.enum(DISPUTE_REASONS),
    detail: z.string().nullable(),
    amount: z.number().int().openapi({ description: "What the dispute claims: the charge less what was refunded before it opened." }),
    compensated: z.number().int().openapi({ description: "What the compensation account credited the payer at once (`unauthorized`)." }),
    currency: z.string(),
    status: z.enum(["open", "accepted", "won_by_payer", "won_by_provider"]).openapi({ description: "`open` until it reaches one final state." }),
    evidence: z.string().nullable(),
    contested_at: z.string().nullable(),
    created_at: z.string(),
    resolved_at: z.string().nullable(),
  })
  .openapi("Dispute");

const disputeCursor = cursorOf(atIdPosition("dp"));

/** Whose disputes a caller may list across accounts: a provider its own charges', the operator all. */
function listScope(p: Principal): DisputeScope {
  if (p.role === "operator") return "all";
  if (p.role === "provider") return { providerId: p.providerId };
  throw new ApiError("forbidden", "Providers list the disputes of their charges; an account's owner lists its own under /v1/accounts/{id}/disputes.");
}

/** The ledger that holds a dispute, for a provider (its own disputes only) or the operator; 404 otherwise. */
async function disputeLedger(env: Env, id: string, providerId: string | null) {
  const owners = await disputeOwners(db(env), id);
  if (!owners || (providerId !== null && owners.providerId !== providerId)) throw new ApiError("not_found", "No such dispute.");
  return ledgerFor(env, owners.accountId);
}

export const disputeRoutes = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/accounts/{id}/disputes",
      summary: "Dispute a charge (the account's owner); `unauthorized` is compensated at once",
      security: bearer,
      request: { params: IdParams, body: jsonBody(DisputeCreate) },
      responses: { 201: json(Dispute, "Opened"), ...errors(400, 401, 404, 409, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const { COMPENSATION_LIMIT, DISPUTE_WINDOW_DAYS } = config(c.env);
      const result = await rpc.openDispute(accountLedger(c, id), {
        actor: actorOf(c.var.principal),
        transferId: input.transfer_id,
        reason: input.reason,
        detail: input.detail ?? null,
        compensationLimit: COMPENSATION_LIMIT,
        windowMs: DISPUTE_WINDOW_DAYS * 86_400_000,
      });
      if (!result.ok) throw openDisputeRefusal(result, DISPUTE_WINDOW_DAYS);
      return c.json(result.dispute, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/disputes",
      summary: "The account's disputes, newest first (owner, operator)",
      security: bearer,
      request: { params: IdParams, query: Pagination },
      responses: { 200: json(page(Dispute, "DisputePage")), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      requireAccountAccess(c.var.principal, id);
      const { limit, cursor } = c.req.valid("query");
      const result = await listDisputes(db(c.env), { accountId: id }, limit, disputeCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: disputeCursor.encode(result.next) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/disputes",
      summary: "Disputes, newest first (a provider: of its charges; operator: all)",
      security: bearer,
      request: { query: Pagination },
      responses: { 200: json(page(Dispute, "DisputeListPage")), ...errors(400, 401, 403) },
    }),
    async (c) => {
      const scope = listScope(c.var.principal);
      const { limit, cursor } = c.req.valid("query");
      const result = await listDisputes(db(c.env), scope, limit, disputeCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: disputeCursor.encode(result.next) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/disputes/{id}/respond",
      summary: "Accept or contest a dispute of your charge (its provider)",
      security: bearer,
      request: { params: IdParams, body: jsonBody(DisputeResponse) },
      responses: { 200: json(Dispute, "Answered"), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.var.principal;
      if (p.role !== "provider" && p.role !== "operator") throw new ApiError("forbidden", "The provider that was paid answers a dispute.");
      const providerId = p.role === "provider" ? p.providerId : null;
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const result = await rpc.respondToDispute(await disputeLedger(c.env, id, providerId), {
        actor: actorOf(p),
        disputeId: id,
        providerId,
        accept: body.accept,
        evidence: body.evidence ?? null,
      });
      if (!result.ok) throw disputeStepRefusal(result);
      return c.json(result.dispute, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/disputes/{id}/resolve",
      summary: "Decide an open dispute (operator)",
      security: bearer,
      request: { params: IdParams, body: jsonBody(DisputeResolution) },
      responses: { 200: json(Dispute, "Resolved"), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      if (c.var.principal.role !== "operator") throw new ApiError("forbidden", "The operator resolves disputes.");
      const { id } = c.req.valid("param");
      const { winner } = c.req.valid("json");
      const result = await rpc.resolveDispute(await disputeLedger(c.env, id, null), { actor: "operator", disputeId: id, winner });
      if (!result.ok) throw disputeStepRefusal(result);
      return c.json(result.dispute, 200);
    },
  );
