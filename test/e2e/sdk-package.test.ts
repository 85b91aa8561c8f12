/**
 * sdk/ is a real package: `npm pack` builds it (ESM + .d.ts) into a tarball that another project
 * installs without the network (it has no dependencies) and imports by name, from JavaScript and
 * from TypeScript, both the provider's verifier and the agent's client.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

const SDK = join(ROOT, "sdk");
let work: string;
let consumer: string;
let packed: { filename: string; files: { path: string }[] };

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "tollgate-sdk-"));
  consumer = join(work, "consumer");
  // `npm pack` runs `prepack` (npm run build: tsc into dist/).
  [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], SDK));
  run("mkdir", ["-p", consumer], work);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", join(work, packed.filename)], consumer);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the @tollgate/sdk tarball", () => {
  it("holds the built ESM and its type declarations, and no sources or tests", () => {
    const files = packed.files.map((f) => f.path).sort();
    for (const f of ["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "dist/agent.js", "dist/agent.d.ts", "dist/verify.js", "dist/verify.d.ts"])
      expect(files).toContain(f);
    expect(files.filter((f) => !f.startsWith("dist/") && f !== "package.json" && f !== "README.md")).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(consumer, "node_modules/@tollgate/sdk/package.json"), "utf8"));
    expect(manifest).toMatchObject({ name: "@tollgate/sdk", type: "module" });
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it("imports by name in Node: the verifier and the agent's client work", () => {
    const script = `
      import { verifyTollgateRequest, createTollgateClient, TollgatePaymentError, TollgateCallError } from "@tollgate/sdk";
      const unsigned = await verifyTollgateRequest(new Request("https://origin.example/x"), { jwksUrl: "https://gw.example/jwks", serviceId: "svc_x" });
      const problem = { type: "https://tollgate.dev/problems/insufficient-funds", title: "t", status: 402, detail: "d", code: "insufficient_funds", price: 5, available: 2, currency: "USD" };
      const fetch = async () => new Response(JSON.stringify(problem), { status: 402, headers: { "content-type": "application/problem+json" } });
      const err = await createTollgateClient({ baseUrl: "https://gw.example", agentKey: "k", fetch }).call("svc", "/x").catch((e) => e);
      console.log(JSON.stringify({ verified: unsigned.ok, why: unsigned.error.code, payment: err instanceof TollgatePaymentError, call: err instanceof TollgateCallError, price: err.price, available: err.available }));
    `;
    const out = run("node", ["--input-type=module", "-e", script], consumer);
    expect(JSON.parse(out)).toEqual({ verified: false, why: "missing_signature", payment: true, call: true, price: 5, available: 2 });
  });

  it("type-checks in a TypeScript project (the .d.ts resolve through the package's exports)", () => {
    writeFileSync(
      join(consumer, "check.ts"),
      `import { createTollgateClient, verifyTollgateRequest, type TollgateCallResult, type VerifyResult } from "@tollgate/sdk";
       const client = createTollgateClient({ baseUrl: "https://gw.example", agentKey: "k" });
       export const call: Promise<TollgateCallResult> = client.call("translate", "/v1/x", { idempotencyKey: "i" });
       export const charge = (r: TollgateCallResult): number | null => r.charge;
       export const verified: Promise<VerifyResult> = verifyTollgateRequest(new Request("https://o.example"), { jwksUrl: "https://gw.example/k", serviceId: "svc" });
       // @ts-expect-error: charge is a number of micro-units, not a string
       export const wrong: string = ({} as TollgateCallResult).charge;
      `,
    );
    const tsc = join(ROOT, "node_modules/.bin/tsc");
    const args = [
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      "--lib",
      "es2022,dom",
      "--types",
      "",
      "check.ts",
    ];
    expect(() => run(tsc, args, consumer)).not.toThrow();
  });
});
