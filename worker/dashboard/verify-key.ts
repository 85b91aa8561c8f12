import { Hono } from "hono";
import { authenticate } from "../auth/principal";
import { hashKey, parseKey } from "../auth/keys";
import type { AppEnv, Env } from "../env";
import { ApiError } from "../errors";
import type { DashboardPrincipal } from "./session";

/**
 * The API's own key check (`authenticate`), run on a key typed into the sign-in form: a tiny app
 * gives it a real request context, so the dashboard verifies keys exactly as the API does.
 */
const verifier = new Hono<AppEnv>().all("*", async (c) => c.json(await authenticate(c)));
verifier.onError((err, c) => c.json({ error: err instanceof ApiError ? err.code : "internal_error" }, 401));

export type KeyCheck = { ok: true; principal: DashboardPrincipal; keyHash: string } | { ok: false; reason: "invalid_key" | "wrong_kind" };

/** An owner or provider key, verified; agent keys and the operator token do not sign in here. */
export async function verifyDashboardKey(env: Env, key: string): Promise<KeyCheck> {
  const kind = parseKey(key)?.kind;
  // Agent keys are checked by their ledger only when used; the operator has the API and the CLI.
  if (kind !== "owner" && kind !== "prov") return { ok: false, reason: kind === "agent" ? "wrong_kind" : "invalid_key" };
  const res = await verifier.request("http://dashboard.internal/", { headers: { authorization: `Bearer ${key}` } }, env);
  const body = (await res.json()) as { role?: string; accountId?: string; providerId?: string };
  if (body.role === "owner" && body.accountId) return { ok: true, principal: { role: "owner", accountId: body.accountId }, keyHash: await hashKey(key) };
  if (body.role === "provider" && body.providerId)
    return { ok: true, principal: { role: "provider", providerId: body.providerId }, keyHash: await hashKey(key) };
  return { ok: false, reason: "invalid_key" };
}
