import { applyD1Migrations, env } from "cloudflare:test";

// Real D1 migrations, applied to each test file's isolated database (idempotent).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
