import { and, eq, isNull, lt } from "drizzle-orm";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { randomToken, sha256Hex, timingSafeEqualHex } from "../../core/ids";
import { ownerKeyHashOf } from "../accounts/store";
import { db } from "../db/client";
import { dashboardSessions, providers } from "../db/schema";
import { type AppEnv, config, type Env } from "../env";

/**
 * Dashboard sessions. The cookie holds `<session id>.<expiry ms>.<HMAC>`: a random 32-character
 * id, signed with a key derived from OPERATOR_TOKEN (so a forged or stale cookie is refused
 * before any D1 read). D1 keeps the SHA-256 of the id with the hash of the key that signed in:
 *  - sign-out marks the row ended, so the old cookie stops working even if it was copied;
 *  - every request compares the stored key hash with the account's (or provider's) current key
 *    hash, so a rotated or revoked key ends its sessions on the next click.
 * The key itself is never stored, put in a cookie, a URL or a page.
 */

export type DashboardPrincipal = { role: "owner"; accountId: string } | { role: "provider"; providerId: string };

export type Session = {
  principal: DashboardPrincipal;
  /** The session's CSRF token (hex), put in every form and checked on every POST (csrf.ts). */
  csrf: string;
  idHash: string;
};

export const SESSION_COOKIE = "tg_dashboard";
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
export const COOKIE_PATH = "/dashboard";

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key for dashboard tokens, derived (HKDF) from the operator's secret: no new secret to manage. */
function macKey(env: Env): Promise<CryptoKey> {
  const secret = config(env).OPERATOR_TOKEN;
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode("tollgate dashboard session v1") },
        base,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
    })();
    keys.set(secret, key);
  }
  return key;
}

/** HMAC-SHA-256 of `text` under the dashboard key, as hex. */
export async function mac(env: Env, text: string): Promise<string> {
  const sig = await crypto.subtle.sign("HMAC", await macKey(env), new TextEncoder().encode(text));
  return [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Secure cookies everywhere but on the local development hosts (plain http there). */
export function cookieOptions(c: Context, maxAgeS: number) {
  const host = new URL(c.req.url).hostname;
  const local = host === "localhost" || host === "127.0.0.1" || host === "[::1]";
  return { httpOnly: true, secure: !local, sameSite: "Strict" as const, path: COOKIE_PATH, maxAge: maxAgeS };
}

/** Opens a session for a principal whose key (hash) was just verified, sets its cookie, and returns it. */
export async function startSession(c: Context<AppEnv>, principal: DashboardPrincipal, keyHash: string): Promise<Session> {
  const id = randomToken(32);
  const now = Date.now();
  const expiresAt = now + SESSION_TTL_MS;
  // Sessions past their expiry are worth nothing: each sign-in sweeps the ones a day past it.
  await db(c.env)
    .delete(dashboardSessions)
    .where(lt(dashboardSessions.expiresAt, now - 86_400_000));
  await db(c.env)
    .insert(dashboardSessions)
    .values({
      idHash: await sha256Hex(id),
      role: principal.role,
      subjectId: principal.role === "owner" ? principal.accountId : principal.providerId,
      keyHash,
      createdAt: now,
      expiresAt,
    });
  const token = `${id}.${expiresAt}.${await mac(c.env, `${id}.${expiresAt}`)}`;
  setCookie(c, SESSION_COOKIE, token, cookieOptions(c, SESSION_TTL_MS / 1000));
  return { principal, csrf: await mac(c.env, `csrf:${id}`), idHash: await sha256Hex(id) };
}

/** The request's live session, or null (no cookie, bad signature, expired, signed out, key changed). */
export async function readSession(c: Context<AppEnv>): Promise<Session | null> {
  const token = getCookie(c, SESSION_COOKIE);
  const m = token ? /^([0-9a-z]{32})\.(\d{1,15})\.([0-9a-f]{64})$/.exec(token) : null;
  if (!m) return null;
  const [, id = "", exp = "", sig = ""] = m;
  if (!timingSafeEqualHex(sig, await mac(c.env, `${id}.${exp}`))) return null;
  const now = Date.now();
  if (Number(exp) <= now) return null;
  const idHash = await sha256Hex(id);
  const row = await db(c.env)
    .select()
    .from(dashboardSessions)
    .where(and(eq(dashboardSessions.idHash, idHash), isNull(dashboardSessions.endedAt)))
    .get();
  if (!row || row.expiresAt <= now) return null;
  const current = row.role === "owner" ? await ownerKeyHashOf(db(c.env), row.subjectId) : await providerKeyHash(c.env, row.subjectId);
  if (current === null || !timingSafeEqualHex(current, row.keyHash)) return null;
  const principal: DashboardPrincipal = row.role === "owner" ? { role: "owner", accountId: row.subjectId } : { role: "provider", providerId: row.subjectId };
  return { principal, csrf: await mac(c.env, `csrf:${id}`), idHash };
}

async function providerKeyHash(env: Env, providerId: string): Promise<string | null> {
  const row = await db(env).select({ h: providers.keyHash }).from(providers).where(eq(providers.id, providerId)).get();
  return row?.h ?? null;
}

/** Signs out: the row is ended (the cookie is dead wherever a copy of it is) and the cookie cleared. */
export async function endSession(c: Context<AppEnv>, session: Session, clearCookie = true): Promise<void> {
  await db(c.env).update(dashboardSessions).set({ endedAt: Date.now() }).where(eq(dashboardSessions.idHash, session.idHash));
  if (clearCookie) deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: cookieOptions(c, 0).secure });
}
