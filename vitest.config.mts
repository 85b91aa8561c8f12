import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_SIGNING_KEYS } from "./test/signing-keys.ts";

// Seed and replay knobs of the generated tests (test/simulation/ledger.sim.test.ts,
// test/routes/fuzz.*.error.test.ts): workerd tests do not see the shell's environment, so they reach
// the tests through `provide`/`inject`.
const SIMULATION_KNOBS = Object.fromEntries(
  ["SIM_SEED", "SIM_RUNS", "SIM_STEPS", "SIM_PATH", "SIM_REPLAY_PATH", "FUZZ_SEED", "FUZZ_RUNS"].map((k) => [k, process.env[k] ?? ""]),
);

const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));

export default defineConfig({
  test: {
    projects: [
      {
        // Unit, Durable Object and route tests run inside workerd with real D1 and DO SQLite.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // SIGNING_KEYS: two test keys, the first signing and both published (as mid-rotation).
              // ALLOW_PRIVATE_ORIGINS: the test origin listens on 127.0.0.1 (the "false" side is tested
              // with an env override: test/routes/origins.security.test.ts).
              // AUTH_FAILURE_LIMIT: route suites send hundreds of bad keys, all from one unnamed client;
              // the default (20/min) is tested with an env override (test/routes/keys.security.test.ts).
              // GATEWAY_HOSTS: a public host of the gateway, which no service may claim (hostnames.security).
              // PAYOUT_DELAY_S: the production default, pinned so a developer's .dev.vars cannot change
              // what the tests see (tests that want earnings available at once override it).
              bindings: {
                OPERATOR_TOKEN: "test-operator-token-0123456789",
                SIGNING_KEYS: TEST_SIGNING_KEYS,
                ALLOW_PRIVATE_ORIGINS: "true",
                AUTH_FAILURE_LIMIT: "1000000",
                GATEWAY_HOSTS: "gateway.tollgate.test, api.tollgate.test",
                PAYOUT_DELAY_S: "172800",
                TEST_MIGRATIONS: migrations,
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/durable-objects/**/*.test.ts", "test/routes/**/*.test.ts", "test/simulation/**/*.test.ts"],
          provide: SIMULATION_KNOBS,
          setupFiles: ["./test/setup.ts"],
          globalSetup: ["./test/global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        // End to end: `wrangler dev` driven over HTTP from Node with real clients, and the dashboard
        // driven by headless Chromium (test/browser/) in the same project, so never beside them.
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts", "test/browser/**/*.test.ts"],
          // One file at a time: concurrent `wrangler dev` sessions of the same Worker name see each
          // other through wrangler's dev registry and restart one another mid-request.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
