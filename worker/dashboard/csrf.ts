import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { randomToken, timingSafeEqualHex } from "../../core/ids";
import type { AppEnv } from "../env";
import { cookieOptions, mac, type Session } from "./session";

/** The hidden form field every dashboard form carries. */
export const CSRF_FIELD = "_csrf";
const SIGNIN_COOKIE = "tg_signin";

/**
 * A POST is the dashboard's own when its CSRF field equals the session's token (compared in
 * constant time) and, when the browser names an Origin, that Origin is this gateway's. The
 * SameSite=Strict cookie already keeps other sites' forms from carrying the session; the token
 * also covers browsers and proxies that do not honour it.
 */
export async function csrfValid(c: Context<AppEnv>, expected: string): Promise<boolean> {
  const origin = c.req.header("origin");
  if (origin && origin !== new URL(c.req.url).origin) return false;
  const body = await c.req.parseBody();
  const sent = body[CSRF_FIELD];
  return typeof sent === "string" && /^[0-9a-f]{64}$/.test(sent) && timingSafeEqualHex(sent, expected);
}

export function sessionCsrfValid(c: Context<AppEnv>, session: Session): Promise<boolean> {
  return csrfValid(c, session.csrf);
}

/**
 * Before sign-in there is no session: the sign-in form is protected by a double submit, a random
 * nonce in a short-lived cookie and its HMAC in the form (so another site cannot sign a victim
 * into the attacker's account).
 */
export async function signInToken(c: Context<AppEnv>): Promise<string> {
  let nonce = getCookie(c, SIGNIN_COOKIE);
  if (!nonce || !/^[0-9a-z]{32}$/.test(nonce)) {
    nonce = randomToken(32);
    setCookie(c, SIGNIN_COOKIE, nonce, cookieOptions(c, 3600));
  }
  return mac(c.env, `signin:${nonce}`);
}

export async function signInCsrfValid(c: Context<AppEnv>): Promise<boolean> {
  const nonce = getCookie(c, SIGNIN_COOKIE);
  if (!nonce || !/^[0-9a-z]{32}$/.test(nonce)) return false;
  return csrfValid(c, await mac(c.env, `signin:${nonce}`));
}
