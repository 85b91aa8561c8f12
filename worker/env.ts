import { z } from "zod";
import type { AccountLedger } from "../durable-objects/account";
import type { AccountShard } from "../durable-objects/shard";
import type { Principal } from "./auth/roles";

/** Bindings, vars and secrets as wrangler.toml and `.dev.vars` declare them. */
export type Env = {
  DB: D1Database;
  ACCOUNT: DurableObjectNamespace<AccountLedger>;
  /** A hot account's spending shards (docs/HOT-ACCOUNTS.md). */
  SHARD: DurableObjectNamespace<AccountShard>;
  OPERATOR_TOKEN?: string;
  PLATFORM_FEE_BPS?: string;
  HOLD_TTL_SECONDS?: string;
  /** Secret: JSON array of Ed25519 private JWKs (see `SigningKeys`). */
  SIGNING_KEYS?: string;
  /** Local development only: "true" lets services use loopback/private origins (never in production). */
  ALLOW_PRIVATE_ORIGINS?: string;
  /** Failed authentications one client address may make per minute before it gets 429 (default 20). */
  AUTH_FAILURE_LIMIT?: string;
  /** Comma-separated: the gateway's own public hosts, never routed by custom hostname nor claimable. */
  GATEWAY_HOSTS?: string;
  /** Micro-units (of the account's currency) an `unauthorized` dispute is credited at once, at most. */
  COMPENSATION_LIMIT?: string;
  /** Days after a charge during which its payer may dispute it. */
  DISPUTE_WINDOW_DAYS?: string;
  /** Seconds a provider's earnings stay pending before they may be paid out (default 172800, two days). */
  PAYOUT_DELAY_S?: string;
  /** The platform's take on tips, in basis points (default 0: tips reach the provider whole). */
  TIP_FEE_BPS?: string;
  /** "true": anyone may register as a provider with POST /v1/signup (default "false": the operator registers them). */
  OPEN_SIGNUP?: string;
  /** Sign-ups one client address may make per hour (default 5). */
  SIGNUP_LIMIT?: string;
};

const Base64Url32 = /^[A-Za-z0-9_-]{43}$/;
/** One host name of GATEWAY_HOSTS: DNS labels, no scheme, port or path. */
const GATEWAY_HOST = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** One Ed25519 key as a JWK (RFC 8037). `kid` becomes the signature's `keyid`, so it is a plain token. */
const SigningJwk = z.object({
  kid: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "kid: 1 to 64 of A-Z a-z 0-9 . _ -"),
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(Base64Url32, "x: the 32-byte public key, base64url"),
  // Never echo the private part in a message: issues name the field, not the value.
  d: z.string().regex(Base64Url32, "d: the 32-byte private key, base64url").optional(),
});

/**
 * `SIGNING_KEYS`: the keys Tollgate signs forwarded requests with. The first signs; every one is
 * published in the JWKS, so a key being rotated in (or out) still verifies. Keys after the first
 * may be public only (no `d`): a retired key stays verifiable without its secret.
 */
export const SigningKeys = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "SIGNING_KEYS: not JSON (a JSON array of Ed25519 JWKs)" });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(SigningJwk)
      .min(1, "SIGNING_KEYS: at least one key")
      .max(4, "SIGNING_KEYS: at most 4 keys")
      .refine((keys) => keys[0]?.d !== undefined, "SIGNING_KEYS: the first key signs, so it needs its private part (d)")
      .refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, "SIGNING_KEYS: kids must be unique"),
  );

export type SigningJwk = z.infer<typeof SigningJwk>;

const Config = z.object({
  OPERATOR_TOKEN: z.string().min(16, "OPERATOR_TOKEN must be set (at least 16 characters)"),
  PLATFORM_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(0),
  HOLD_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  // Optional here so the JSON API runs without it; the proxy refuses to forward unsigned calls.
  SIGNING_KEYS: SigningKeys.optional(),
  // Exactly "true" or "false" (unset: false): a typo such as "yes" must fail loudly, not silently
  // open the gateway to internal addresses. Only `npm start`, the tests and the bench set it.
  ALLOW_PRIVATE_ORIGINS: z
    .enum(["true", "false"], { message: 'ALLOW_PRIVATE_ORIGINS must be "true" or "false"' })
    .default("false")
    .transform((v) => v === "true"),
  AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(20),
  // Self-serve provider sign-up (POST /v1/signup): off unless the operator opens it, and strict
  // like ALLOW_PRIVATE_ORIGINS ("yes" must not open it by accident). `npm start` opens it.
  OPEN_SIGNUP: z
    .enum(["true", "false"], { message: 'OPEN_SIGNUP must be "true" or "false"' })
    .default("false")
    .transform((v) => v === "true"),
  SIGNUP_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(5),
  // What the platform's compensation account credits an `unauthorized` dispute at once, at most
  // (micro-units of the account's currency; 0 turns immediate compensation off).
  COMPENSATION_LIMIT: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(100_000_000),
  DISPUTE_WINDOW_DAYS: z.coerce.number().int().min(1).max(3_650).default(60),
  // How long a provider's earnings stay pending (not payable) after the charge: room for refunds
  // and disputes before the money leaves. 0 pays out at once; at most a year.
  PAYOUT_DELAY_S: z.coerce.number().int().min(0).max(31_536_000).default(172_800),
  // The platform's take on a tip, 0–10000 basis points: no fee unless the operator sets one.
  TIP_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(0),
  // The hosts the gateway answers on (its workers.dev name, its own domain). A service may not
  // claim them, and requests to them never go through custom-hostname routing (SECURITY.md).
  // localhost, 127.x and [::1] are always the gateway's (worker/services/hostnames.ts).
  GATEWAY_HOSTS: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ""),
    )
    .pipe(z.array(z.string().regex(GATEWAY_HOST, "GATEWAY_HOSTS: comma-separated host names, such as tollgate.example.com (no scheme, no port)"))),
});

export type Config = z.infer<typeof Config>;

let cached: { source: Env; config: Config } | null = null;

/** Validated configuration, parsed once per isolate (per env object). A bad value fails loudly. */
export function config(env: Env): Config {
  if (cached?.source !== env) cached = { source: env, config: Config.parse(env) };
  return cached.config;
}

export type AppEnv = { Bindings: Env; Variables: { requestId: string; principal: Principal } };
