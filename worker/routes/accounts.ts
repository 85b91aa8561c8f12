import { createRoute, z } from "@hono/zod-openapi";
import { actorOf, requireAccountAccess, requireOperator } from "../auth/principal";
import { hashKey, issueKey } from "../auth/keys";
import { db } from "../db/client";
import { createAccount, getAccount } from "../accounts/store";
import { ApiError } from "../errors";
import { newId, sha256Hex } from "../../core/ids";
import { callLedger } from "../account-client/failures";
import { creditRefusal } from "../account-client/refusals";
import { rpc } from "../account-client/rpc";
import { type LedgerStub, ledgerFor } from "../account-client/stub";
import { PositiveAmount } from "../../core/pricing/amount";
import { accountLedger, bearer, Currency, errors, IdParams, json, jsonBody, Pagination, router } from "./common";
import type { OpenResult } from "../../durable-objects/types";
import { MAX_SHARDS } from "../../durable-objects/shard-types";
import { cursorOf, seqPosition } from "./cursor";
import { Balance, page, Transfer } from "./models";

const AccountCreate = z
  .object({ name: z.string().min(1).max(200), currency: Currency })
  .strict()
  .openapi("AccountCreate");
const Account = z.object({ id: z.string(), name: z.string(), currency: z.string(), created_at: z.string() }).openapi("Account");
const AccountCreated = Account.extend({
  owner_key: z.string().openapi({ description: "The account owner's key. Shown once." }),
}).openapi("AccountCreated");
const CreditCreate = z
  .object({
    amount: PositiveAmount.openapi({ description: "Micro-units of the account's currency." }),
    currency: Currency.optional().openapi({ description: "If given, must be the account's currency." }),
    reference: z.string().min(1).max(200).optional(),
  })
  .strict()
  .openapi("CreditCreate");
const AccountUpdate = z
  .object({
    shards: z
      .number()
      .int()
      .min(1)
      .max(MAX_SHARDS)
      .openapi({ description: "Spending objects for a hot account (docs/HOT-ACCOUNTS.md): 1 is off, 2–64 spread its calls." }),
  })
  .strict()
  .openapi("AccountUpdate");
const AccountSettings = z.object({ id: z.string(), shards: z.number().int() }).openapi("AccountSettings");
const CreditCreated = z.object({ transfer: Transfer, balance: Balance }).openapi("CreditCreated");

const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({ description: "Makes the request safe to retry." }),
});

/** The journal continues below a seq. */
export const journalCursor = cursorOf(seqPosition);

export const accountRoutes = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/accounts",
      summary: "Open a payer account (operator)",
      security: bearer,
      request: { body: jsonBody(AccountCreate) },
      responses: { 201: json(AccountCreated, "Created"), ...errors(400, 401, 403, 409) },
    }),
    async (c) => {
      requireOperator(c.var.principal);
      const { name, currency } = c.req.valid("json");
      const id = newId("acct");
      const ownerKey = issueKey("owner", id);
      const now = Date.now();
      // The directory row first, then the ledger. If the ledger cannot be opened, the request
      // fails and the row is left as an account whose ledger is not open: the reconciler lists
      // accounts, so it reports that one (ledger_not_opened) and can open it. The other order
      // would leave an opened ledger that no row points to, which nothing can find.
      await createAccount(db(c.env), { id, name, currency, ownerKeyHash: await hashKey(ownerKey), createdAt: now });
      // Opening is idempotent (the same id and currency), so a transient failure is retried once.
      const stub = () => ledgerFor(c.env, id);
      const open = (s: LedgerStub): Promise<OpenResult> => rpc.open(s, id, currency);
      const { value: opened } = await callLedger(stub(), stub, open, { retry: true, what: "open" });
      if (!opened.ok) throw new ApiError("conflict");
      return c.json({ id, name, currency, owner_key: ownerKey, created_at: new Date(now).toISOString() }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}",
      summary: "An account (operator, owner)",
      security: bearer,
      request: { params: IdParams },
      responses: { 200: json(Account), ...errors(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      requireAccountAccess(c.var.principal, id);
      const row = await getAccount(db(c.env), id);
      if (!row) throw new ApiError("not_found", "No such account.");
      return c.json({ id: row.id, name: row.name, currency: row.currency, created_at: new Date(row.createdAt).toISOString() }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/accounts/{id}",
      summary: "Change an account's settings: its shard count (operator, owner)",
      description:
        "`shards: N` (2–64) spreads the account's calls over N spending objects, each with a lease of its balance; 1 turns it off. Answers when every shard obeys the new count (fewer shards: their leases are back).",
      security: bearer,
      request: { params: IdParams, body: jsonBody(AccountUpdate) },
      responses: { 200: json(AccountSettings), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { shards } = c.req.valid("json");
      const result = await accountLedger(c, id).setShards({ shards, actor: actorOf(c.var.principal) });
      if (!result.ok) throw new ApiError("not_found", "No such account.");
      return c.json({ id, shards: result.shards }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/accounts/{id}/credits",
      summary: "Top up an account from outside money (operator)",
      security: bearer,
      request: { params: IdParams, headers: IdempotencyHeader, body: jsonBody(CreditCreate) },
      responses: { 201: json(CreditCreated, "Credited"), ...errors(400, 401, 403, 404, 422) },
    }),
    async (c) => {
      requireOperator(c.var.principal);
      const { id } = c.req.valid("param");
      const input = c.req.valid("json");
      const idempotencyKey = c.req.valid("header")["idempotency-key"] ?? null;
      const ledger = ledgerFor(c.env, id);
      const balance = await ledger.balance();
      if (!balance) throw new ApiError("not_found", "No such account.");
      if (input.currency && input.currency !== balance.currency) {
        throw new ApiError("invalid_request", `currency: this account holds ${balance.currency}, not ${input.currency}`);
      }
      const result = await rpc.credit(ledger, {
        amount: input.amount,
        reference: input.reference ?? null,
        idempotencyKey,
        fingerprint: await sha256Hex(JSON.stringify([input.amount, input.reference ?? null])),
        actor: "operator",
      });
      if (!result.ok) throw creditRefusal(result, balance.currency);
      if (result.replayed) c.header("Idempotent-Replayed", "true");
      return c.json({ transfer: result.transfer, balance: result.balance }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/balance",
      summary: "The account's balance (operator, owner)",
      security: bearer,
      request: { params: IdParams },
      responses: { 200: json(Balance), ...errors(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const balance = await accountLedger(c, id).balance();
      if (!balance) throw new ApiError("not_found", "No such account.");
      return c.json(balance, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/transfers",
      summary: "The account's journal, newest first (operator, owner)",
      security: bearer,
      request: { params: IdParams, query: Pagination },
      responses: { 200: json(page(Transfer, "TransferPage")), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const result = await accountLedger(c, id).transfers(limit, journalCursor.decode(cursor));
      return c.json({ data: result.data, next_cursor: journalCursor.encode(result.next_cursor === null ? null : Number(result.next_cursor)) }, 200);
    },
  );
