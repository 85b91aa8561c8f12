#!/usr/bin/env node
// `npm start`: runs the gateway locally with local D1 and Durable Object storage, offline.
// 1. creates .dev.vars from .dev.vars.example when it is missing (operator token for local use);
// 2. applies the D1 migrations to the local database;
// 3. starts `wrangler dev` on http://127.0.0.1:8787 (extra arguments pass through: `-- --port 8788`).
import { spawnSync, spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: process.env.CI ?? "true" };
const wrangler = ["exec", "--", "wrangler"];

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example (operator token: dev-operator-token)");
}

const migrate = spawnSync("npm", [...wrangler, "d1", "migrations", "apply", "DB", "--local"], { stdio: "inherit", env });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn("npm", [...wrangler, "dev", ...process.argv.slice(2)], { stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
