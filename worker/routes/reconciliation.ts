import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "../auth/principal";
import { db } from "../db/client";
import { accountExists } from "../accounts/store";
import { ApiError } from "../errors";
import { openLedger, reconcilePage } from "../reports/reconcile-run";
import { bearer, errors, json, jsonBody, router } from "./common";
import { cursorOf, idPosition } from "./cursor";

const AccountId = z.string().regex(/^acct_[0-9a-z]{1,40}$/, "an account id (acct_…)");

/** A reconciliation run continues after the last account id of the previous page. */
const accountCursor = cursorOf(idPosition("acct"));

const ReconcileQuery = z.object({
  account_id: AccountId.optional().openapi({ description: "Reconcile this account only." }),
  limit: z.coerce.number().int().min(1).max(50).default(20).openapi({ description: "Accounts per page (1–50)." }),
  cursor: z.string().max(200).optional().openapi({ description: "The `next_cursor` of the previous page." }),
  grace_seconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(300)
    .openapi({ description: "A settled transfer not in D1 after this long is `missing`; before, it is counted as not yet exported." }),
});

const Discrepancy = z
  .object({
    account_id: z.string().nullable().openapi({ description: "The account, or for a payout the provider; null for whole-ledger findings." }),
    seq: z.number().int().nullable(),
    kind: z.enum(["missing", "duplicate", "amount_mismatch", "sequence_gap", "unbalanced", "unknown_in_d1", "ledger_not_opened"]),
    detail: z.string(),
  })
  .openapi("Discrepancy");

const Reconciliation = z
  .object({
    ok: z.boolean().openapi({ description: "No discrepancy on this page." }),
    checked_at: z.string(),
    accounts: z.number().int(),
    transfers_checked: z.number().int(),
    not_yet_exported: z.number().int().openapi({ description: "Settled in the journal, within the grace period, not yet in D1." }),
    discrepancies: z.array(Discrepancy),
    next_cursor: z.string().nullable(),
  })
  .openapi("Reconciliation");

const RepairCreate = z
  .object({ account_id: AccountId.openapi({ description: "An account the reconciler reported as `ledger_not_opened`." }) })
  .strict()
  .openapi("RepairCreate");
const Repair = z
  .object({
    account_id: z.string(),
    ledger_opened: z.boolean().openapi({ description: "True if this request opened the ledger; false if it was already open (nothing changed)." }),
  })
  .openapi("Repair");

/**
 * The reconciler (I1, I7, I8): compares every account's Durable Object journal with D1. The GET is
 * read-only; a run over many accounts follows `next_cursor` (the first page adds the whole-ledger
 * checks). The one repair, opening the ledger of an account D1 lists without one, is its own POST.
 */
export const reconciliationRoutes = router()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/reconciliation",
      summary: "Compare every account's journal with D1: balanced legs, exactly-once export, gapless seqs (operator)",
      security: bearer,
      request: { query: ReconcileQuery },
      responses: { 200: json(Reconciliation), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      requireOperator(c.var.principal);
      const q = c.req.valid("query");
      if (q.account_id) {
        if (!(await accountExists(db(c.env), q.account_id))) throw new ApiError("not_found", "No such account.");
      }
      const after = accountCursor.decode(q.cursor);
      const now = Date.now();
      const r = await reconcilePage(c.env, { accountId: q.account_id, after, limit: q.limit, graceMs: q.grace_seconds * 1000, now });
      return c.json(
        {
          ok: r.discrepancies.length === 0,
          checked_at: new Date(now).toISOString(),
          accounts: r.accounts,
          transfers_checked: r.transfers_checked,
          not_yet_exported: r.not_yet_exported,
          discrepancies: r.discrepancies,
          next_cursor: accountCursor.encode(r.next),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/reconciliation/repairs",
      summary: "Open the ledger of an account whose creation failed half-way (ledger_not_opened) (operator)",
      description:
        "Opens the account's ledger with the currency D1 records; idempotent. The other discrepancies move money or history " +
        "and are not repaired automatically.",
      security: bearer,
      request: { body: jsonBody(RepairCreate) },
      responses: { 200: json(Repair), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      requireOperator(c.var.principal);
      const repaired = await openLedger(c.env, c.req.valid("json").account_id);
      if (repaired === null) throw new ApiError("not_found", "No such account.");
      if (repaired === "conflict") throw new ApiError("conflict", "The account's ledger is open with another currency than D1 records.");
      return c.json(repaired, 200);
    },
  );
