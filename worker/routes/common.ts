import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireAccountAccess } from "../auth/principal";
import { ledgerFor } from "../account-client/stub";
import type { AppEnv } from "../env";
import { ApiError, ERROR_CODES } from "../errors";

/**
 * A router whose validation failures go through the one error path (problem+json, code
 * `invalid_request`, with each issue's path and message).
 */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
        const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
        throw new ApiError("invalid_request", detail, { errors: issues });
      }
    },
  });
}

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES),
  })
  .passthrough()
  .openapi("Problem");

/** The error responses every protected route may give. */
export function errors(...statuses: (400 | 401 | 402 | 403 | 404 | 409 | 422 | 502 | 504)[]) {
  const out: Record<number, { description: string; content: { "application/problem+json": { schema: typeof Problem } } }> = {};
  for (const s of statuses) out[s] = { description: `Error (${s})`, content: { "application/problem+json": { schema: Problem } } };
  return out;
}

export const bearer = [{ bearer: [] }];

export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: "At most this many items (1–100)." }),
  cursor: z.string().max(200).optional().openapi({ description: "The `next_cursor` of the previous page." }),
});

export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "an ISO 4217 code such as USD")
  .openapi({ example: "USD" });

/** A JSON response or request body, for createRoute. */
export const json = <T extends z.ZodTypeAny>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });
export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

const pathParam = (name: string) =>
  z
    .string()
    .max(64)
    .openapi({ param: { in: "path", name } });
export const IdParams = z.object({ id: pathParam("id") });
export const KeyParams = IdParams.extend({ key_id: pathParam("key_id") });
export const MandateParams = IdParams.extend({ mandate_id: pathParam("mandate_id") });

/** The account's ledger, after checking the caller may see it (404 otherwise). */
export function accountLedger(c: Context<AppEnv>, accountId: string) {
  requireAccountAccess(c.var.principal, accountId);
  return ledgerFor(c.env, accountId);
}
