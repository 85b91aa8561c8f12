import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { z } from "@hono/zod-openapi";
import { newId, sha256Hex } from "../../core/ids";
import { hashKey, issueKey } from "../auth/keys";
import { UNKNOWN_CLIENT } from "../auth/throttle";
import { providers, signups } from "../db/schema";
import { config, type Env } from "../env";
import { ApiError } from "../errors";
import { lookupHash, seal, unseal } from "./seal";
import { admitSignup } from "./throttle";

/** What a sign-up asks for: the provider's display name and a contact address. */
export const SignupInput = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ description: "The provider's display name." }),
    email: z.email().max(254).openapi({ description: "Where the operator can reach the provider. Not verified, and not unique." }),
  })
  .strict()
  .openapi("SignupCreate");
export type SignupInput = z.infer<typeof SignupInput>;

export type SignupOptions = {
  /** Makes the sign-up safe to retry: the same key (and the same input) answers the same provider and key. */
  idempotencyKey?: string | null;
  /** Who is signing up, for the per-client limit (auth/throttle.ts `clientOf`); unnamed clients share one bucket. */
  client?: string;
  now?: number;
};

export type OpenedProvider = {
  provider: { id: string; name: string; email: string; created_at: string };
  /** The provider's key (`tg_prov_…`), as the operator's POST /v1/providers issues it. */
  apiKey: string;
  /** True when this answers an earlier sign-up with the same Idempotency-Key. */
  replayed: boolean;
};

/**
 * Self-serve provider sign-up, for every way in (POST /v1/signup, a dashboard's sign-up form):
 * registers a provider as the operator's POST /v1/providers does (a `prov_` id and a key of which
 * only the digest is stored) and records who signed up. Throws ApiError, and changes nothing, when:
 * - `signup_closed` (403): the operator has not set OPEN_SIGNUP = "true";
 * - `rate_limited` (429, `retry_after`): the client made SIGNUP_LIMIT sign-ups this hour;
 * - `idempotency_mismatch` (422): the Idempotency-Key was used for another name or email;
 * - `invalid_request` (400): the input does not parse as `SignupInput`.
 *
 * Concurrent sign-ups with one Idempotency-Key create one provider: the insert and the check that
 * the key is unused are one D1 batch (one transaction on D1's single writer).
 */
export async function openProvider(env: Env, input: SignupInput, options: SignupOptions = {}): Promise<OpenedProvider> {
  const cfg = config(env);
  if (!cfg.OPEN_SIGNUP) throw new ApiError("signup_closed", "Self-serve sign-up is closed on this gateway; ask its operator for a provider key.");
  const parsed = SignupInput.safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new ApiError("invalid_request", errors.map((e) => `${e.path}: ${e.message}`).join("; "), { errors });
  }
  const { name, email } = parsed.data;
  const idempotencyKey = options.idempotencyKey ?? null;
  const now = options.now ?? Date.now();
  const wait = admitSignup(options.client ?? UNKNOWN_CLIENT, idempotencyKey, cfg.SIGNUP_LIMIT, now);
  if (wait > 0) {
    throw new ApiError("rate_limited", `Too many sign-ups from this address; retry in ${wait} s.`, { retry_after: wait }, { "retry-after": String(wait) });
  }

  const id = newId("prov");
  const apiKey = issueKey("prov", id);
  const fingerprint = await sha256Hex(JSON.stringify([name, email]));
  const keyHash = idempotencyKey === null ? null : await lookupHash(idempotencyKey);
  const sealed = idempotencyKey === null ? null : await seal(idempotencyKey, apiKey);
  const keyUnused = sql`NOT EXISTS (SELECT 1 FROM ${signups} WHERE idempotency_key_hash = ${keyHash})`;
  const results = await env.DB.batch<Record<string, unknown>>([
    // A null key matches no row (NULL = NULL is not true), so a sign-up without one always inserts.
    statement(
      env.DB,
      sql`INSERT INTO ${providers} (id, name, key_hash, created_at) SELECT ${id}, ${name}, ${await hashKey(apiKey)}, ${now} WHERE ${keyUnused}`,
    ),
    statement(
      env.DB,
      sql`INSERT INTO ${signups} (provider_id, email, idempotency_key_hash, fingerprint, sealed_key, created_at)
        SELECT ${id}, ${email}, ${keyHash}, ${fingerprint}, ${sealed}, ${now} WHERE EXISTS (SELECT 1 FROM ${providers} WHERE id = ${id})`,
    ),
    statement(env.DB, sql`SELECT ${SIGNUP_COLUMNS} FROM ${signups} s JOIN ${providers} p ON p.id = s.provider_id WHERE s.idempotency_key_hash = ${keyHash}`),
  ]);
  const earlier = results[2]?.results[0];
  if (idempotencyKey === null || !earlier || earlier.provider_id === id) {
    return { provider: { id, name, email, created_at: new Date(now).toISOString() }, apiKey, replayed: false };
  }
  if (earlier.fingerprint !== fingerprint) throw new ApiError("idempotency_mismatch", "This Idempotency-Key was used to sign up another name or email.");
  const earlierKey = await unseal(idempotencyKey, String(earlier.sealed_key));
  // Unreachable unless the row was altered: the lookup digest and the seal come from the same key.
  if (earlierKey === null) throw new ApiError("conflict", "The earlier sign-up with this Idempotency-Key cannot be answered again.");
  const provider = {
    id: String(earlier.provider_id),
    name: String(earlier.name),
    email: String(earlier.email),
    created_at: new Date(Number(earlier.created_at)).toISOString(),
  };
  return { provider, apiKey: earlierKey, replayed: true };
}

const dialect = new SQLiteAsyncDialect();
const SIGNUP_COLUMNS = sql.raw("s.provider_id, p.name, s.email, s.fingerprint, s.sealed_key, s.created_at");

function statement(d1: D1Database, query: SQL): D1PreparedStatement {
  const q = dialect.sqlToQuery(query);
  return d1.prepare(q.sql).bind(...q.params);
}
