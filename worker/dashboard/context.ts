import type { Context } from "hono";
import type { AppEnv, Env } from "../env";
import { apiFor, type DashboardApi } from "./api";
import type { Session } from "./session";

/** The dashboard's Hono environment: the app's, plus the signed-in session. */
export type DashEnv = { Bindings: Env; Variables: AppEnv["Variables"] & { session: Session } };
export type DashContext = Context<DashEnv>;

/** The session and the API as its principal sees it. */
export function signedIn(c: DashContext): { session: Session; api: DashboardApi } {
  const session = c.get("session");
  return { session, api: apiFor(c as unknown as Context<AppEnv>, session.principal) };
}

/** The owner's account id (owner pages run only behind the owner guard in routes.tsx). */
export function ownerAccount(session: Session): string {
  if (session.principal.role !== "owner") throw new Error("owner page reached without the owner guard");
  return session.principal.accountId;
}

/** The provider's id (provider pages run only behind the provider guard in routes.tsx). */
export function providerId(session: Session): string {
  if (session.principal.role !== "provider") throw new Error("provider page reached without the provider guard");
  return session.principal.providerId;
}
