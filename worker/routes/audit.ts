import { createRoute, z } from "@hono/zod-openapi";
import { verifyAuditTrail } from "../audit/verify-trail";
import { ApiError } from "../errors";
import { accountLedger, bearer, errors, IdParams, json, Pagination, router } from "./common";
import { cursorOf, seqPosition } from "./cursor";

const AuditEvent = z
  .object({
    account_id: z.string(),
    seq: z.number().int(),
    at: z.string(),
    actor: z.string().openapi({ description: "operator, owner, agent:ak_…, provider:prov_… or system." }),
    event: z.string(),
    agent_key_id: z.string().nullable(),
    mandate_id: z.string().nullable(),
    intent_hash: z.string().nullable(),
    service_id: z.string().nullable(),
    request_id: z.string().nullable(),
    amount: z.number().int().nullable(),
    outcome: z.string(),
    reason: z.string().nullable(),
    prev_hash: z.string(),
    hash: z.string().openapi({ description: "SHA-256 over prev_hash and the event (core/audit-chain.ts)." }),
  })
  .openapi("AuditEvent");

const AuditPage = z.object({ data: z.array(AuditEvent), next_cursor: z.string().nullable() }).openapi("AuditEventPage");

const Problem = z.enum(["missing", "broken_link", "hash_mismatch", "head_mismatch", "unknown_in_d1"]);
const AuditVerification = z
  .object({
    account_id: z.string(),
    ok: z.boolean(),
    checked: z.number().int().openapi({ description: "Events verified before the first problem (all of D1's when ok)." }),
    d1_head_seq: z.number().int().optional(),
    d1_head_hash: z.string().nullable().optional(),
    exported_seq: z.number().int().optional().openapi({ description: "How far the ledger says it exported." }),
    ledger_head_seq: z.number().int().optional(),
    not_yet_exported: z.number().int().optional(),
    seq: z.number().int().optional().openapi({ description: "When not ok: the first broken or missing event." }),
    problem: Problem.optional(),
    detail: z.string().optional(),
  })
  .openapi("AuditVerification");

/** The audit trail continues below an event's seq. */
const auditCursor = cursorOf(seqPosition);

/** The hash-chained audit trail: read from the account's ledger, verified in D1. */
export const auditRoutes = router()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/audit",
      summary: "The account's audit trail, newest first (owner, operator)",
      security: bearer,
      request: { params: IdParams, query: Pagination },
      responses: { 200: json(AuditPage), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const result = await accountLedger(c, id).auditEvents(limit, auditCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: auditCursor.encode(result.next_cursor === null ? null : Number(result.next_cursor)) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/audit/verify",
      summary: "Recompute the audit chain D1 holds and compare it with the ledger's (owner, operator)",
      description:
        "ok when D1 holds events 1..n, each hashing to its stored hash and linking to the one before, n is at least the " +
        "ledger's export cursor, and event n is the ledger's event n. Otherwise the first broken or missing event.",
      security: bearer,
      request: { params: IdParams },
      responses: { 200: json(AuditVerification), ...errors(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const verification = await verifyAuditTrail(c.env.DB, accountLedger(c, id), id);
      if (!verification) throw new ApiError("not_found", "No such account.");
      return c.json({ account_id: id, ...verification }, 200);
    },
  );
