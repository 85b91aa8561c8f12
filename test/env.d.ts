import type { D1Migration } from "cloudflare:test";
import type { Env } from "../worker/env";

declare module "cloudflare:test" {
  interface ProvidedEnv extends Env {
    TEST_MIGRATIONS: D1Migration[];
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    originUrl: string;
    mcpOriginUrl: string;
  }
}

declare global {
  namespace Cloudflare {
    // Types `exports.default` (the Worker under test) for `import { exports } from "cloudflare:workers"`.
    interface GlobalProps {
      mainModule: typeof import("../worker/index");
      durableNamespaces: "AccountLedger";
    }
  }
}
