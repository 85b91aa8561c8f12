import { z } from "zod";
import type { AccountLedger } from "../durable-objects/account";
import type { Principal } from "./auth/principal";

/** Bindings, vars and secrets as wrangler.toml and `.dev.vars` declare them. */
export type Env = {
  DB: D1Database;
  ACCOUNT: DurableObjectNamespace<AccountLedger>;
  OPERATOR_TOKEN?: string;
  PLATFORM_FEE_BPS?: string;
  HOLD_TTL_SECONDS?: string;
};

const Config = z.object({
  OPERATOR_TOKEN: z.string().min(16, "OPERATOR_TOKEN must be set (at least 16 characters)"),
  PLATFORM_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(0),
  HOLD_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
});

export type Config = z.infer<typeof Config>;

let cached: { source: Env; config: Config } | null = null;

/** Validated configuration, parsed once per isolate (per env object). A bad value fails loudly. */
export function config(env: Env): Config {
  if (cached?.source !== env) cached = { source: env, config: Config.parse(env) };
  return cached.config;
}

export type AppEnv = { Bindings: Env; Variables: { requestId: string; principal: Principal } };
