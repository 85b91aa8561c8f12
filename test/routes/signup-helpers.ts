/** Sign-up requests with the gateway opened for them (OPEN_SIGNUP), each from a client address of its own choosing. */
import { testEnv as env } from "../durable-objects/helpers";
import { callWithEnv } from "./helpers";

export const OPEN = { OPEN_SIGNUP: "true" };

let ipCounter = 0;
/** A client address no other test of the file uses (the sign-up limit counts per address). */
export function freshIp(): string {
  ipCounter += 1;
  return `203.0.113.${ipCounter}`;
}

export type SignupCall = { ip?: string; key?: string; vars?: Record<string, string> };

/** POST /v1/signup; the body as given (JSON-encoded unless a string). */
export async function signup(body: unknown, opts: SignupCall = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (opts.ip) headers["cf-connecting-ip"] = opts.ip;
  if (opts.key) headers["idempotency-key"] = opts.key;
  return callWithEnv(opts.vars ?? OPEN, "/v1/signup", { method: "POST", body, headers }).response;
}

/** How many providers and sign-up rows D1 holds. */
export async function counts(): Promise<{ providers: number; signups: number }> {
  const row = await env.DB.prepare("SELECT (SELECT COUNT(*) FROM providers) AS providers, (SELECT COUNT(*) FROM signups) AS signups").first<{
    providers: number;
    signups: number;
  }>();
  return { providers: Number(row?.providers), signups: Number(row?.signups) };
}

/** An Idempotency-Key as a client would make one. */
export function idemKey(): string {
  return crypto.randomUUID();
}
