import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_SIGNING_KEYS } from "./test/signing-keys.ts";

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
              bindings: { OPERATOR_TOKEN: "test-operator-token-0123456789", SIGNING_KEYS: TEST_SIGNING_KEYS, TEST_MIGRATIONS: migrations },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts", "test/durable-objects/**/*.test.ts", "test/routes/**/*.test.ts"],
          setupFiles: ["./test/setup.ts"],
          globalSetup: ["./test/global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        // End to end: `wrangler dev` driven over HTTP from Node with real clients.
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
