import { eq } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { config } from "../env";
import type { Actor } from "../../durable-objects/types";
import { ApiError } from "../errors";
import { timingSafeEqualHex } from "../../core/ids";
import { ownerKeyHashOf } from "../accounts/store";
import { providers } from "../db/schema";
import { db } from "../db/client";
import { hashKey, parseKey } from "./keys";
import type { Principal } from "./roles";

/** The credential presented as `Authorization: Bearer …` or, for SDKs that use it, `x-api-key`. */
export function presentedKey(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1] ?? null;
  }
  return headers.get("x-api-key")?.trim() || null;
}

/**
 * Who is calling. Operator, provider and owner secrets are verified here; agent keys are
 * verified by the account's Durable Object, which holds them (so a call needs one round trip).
 */
export async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const key = presentedKey(c.req.raw.headers);
  if (!key) throw new ApiError("unauthorized", "Send a key as 'Authorization: Bearer <key>'.");
  const keyHash = await hashKey(key);
  const parsed = parseKey(key);
  if (!parsed) {
    const operatorHash = await hashKey(config(c.env).OPERATOR_TOKEN);
    if (timingSafeEqualHex(keyHash, operatorHash)) return { role: "operator" };
    throw new ApiError("invalid_key");
  }
  switch (parsed.kind) {
    case "agent":
      return { role: "agent", accountId: parsed.objectId, keyHash };
    case "prov": {
      const row = await db(c.env).select({ h: providers.keyHash }).from(providers).where(eq(providers.id, parsed.objectId)).get();
      if (row && timingSafeEqualHex(row.h, keyHash)) return { role: "provider", providerId: parsed.objectId };
      throw new ApiError("invalid_key");
    }
    case "owner": {
      const hash = await ownerKeyHashOf(db(c.env), parsed.objectId);
      if (hash !== null && timingSafeEqualHex(hash, keyHash)) return { role: "owner", accountId: parsed.objectId };
      throw new ApiError("invalid_key");
    }
  }
}

/** Public API routes: no credential needed. */
const PUBLIC = /^\/v1\/(services\/[^/]+\/pricing|catalog|signup)$/;

/**
 * Authenticates every `/v1/*` call before its input is validated, so an unauthenticated
 * caller learns nothing about a route's objects or its input rules.
 */
export const requireCredential: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!PUBLIC.test(c.req.path)) c.set("principal", await authenticate(c));
  await next();
};

/** Operator only; anyone else learns nothing about the route's objects. */
export function requireOperator(p: Principal): void {
  if (p.role !== "operator") throw new ApiError("forbidden", "This endpoint is for the operator.");
}

/** The operator or the account's owner; another credential gets 404, as if the account did not exist. */
export function requireAccountAccess(p: Principal, accountId: string): void {
  if (!canAccessAccount(p, accountId)) throw new ApiError("not_found", "No such account.");
}

/** The operator, or the account's own owner. */
export function canAccessAccount(p: Principal, accountId: string): boolean {
  return p.role === "operator" || (p.role === "owner" && p.accountId === accountId);
}

/** How the audit trail names a principal. */
export function actorOf(p: Principal): Actor {
  switch (p.role) {
    case "operator":
      return "operator";
    case "owner":
      return "owner";
    case "provider":
      return `provider:${p.providerId}`;
    case "agent":
      // An agent key administers nothing (those routes are the operator's and the owner's), and
      // its principal carries no key id to name it by.
      throw new ApiError("forbidden", "Agent keys cannot do this.");
  }
}
