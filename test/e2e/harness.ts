/**
 * End-to-end harness: runs the real gateway under `wrangler dev` (workerd, local D1 and Durable
 * Object storage) on a free port with its own temporary state directory, for tests that drive it
 * over HTTP from Node.
 *
 *   const gw = await startGateway();   // { url, operatorToken, d1, stop, … }
 *   …
 *   await gw.stop();                   // kills the whole process group, deletes the temp dir
 *
 * The Worker is bundled once up front (`wrangler deploy --dry-run --outdir`, the same bundle a
 * deploy would upload) and served with `wrangler dev --no-bundle`. `wrangler dev` otherwise
 * watches the sources and reloads on every save, which would restart the Worker and its Durable
 * Objects in the middle of a test whenever someone edits the tree.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { startOrigin, type RunningOrigin } from "../../demo/origin.ts";
import { TEST_SIGNING_KEYS } from "../signing-keys.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WRANGLER = join(createRequire(import.meta.url).resolve("wrangler/package.json"), "..", "bin", "wrangler.js");

export type Gateway = {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** The operator's bearer token this gateway was started with. */
  operatorToken: string;
  /** The temporary directory holding the local D1 database and Durable Object storage. */
  persistDir: string;
  /** Runs SQL against this gateway's local D1 database (`wrangler d1 execute --local --json`). */
  d1: <Row = Record<string, unknown>>(sql: string) => Promise<Row[]>;
  /** What wrangler printed so far (for failure messages). */
  logs: () => string;
  /** Stops wrangler and workerd (the whole process group) and deletes the state. Idempotent. */
  stop: () => Promise<void>;
};

export type GatewayOptions = {
  /** Defaults to a random token. */
  operatorToken?: string;
  /** Extra `--var NAME:value` bindings (e.g. `{ PLATFORM_FEE_BPS: "250" }`). */
  vars?: Record<string, string>;
  /** Milliseconds to wait for the gateway to answer `GET /`. */
  readyTimeoutMs?: number;
  /** Print wrangler's output as it comes (also: TOLLGATE_E2E_LOG=1). */
  verbose?: boolean;
};

const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" };

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs wrangler to completion; rejects with its output when it fails. */
function wrangler(args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`wrangler ${args.slice(0, 3).join(" ")} exited with ${code}\n${stdout}\n${stderr}`));
    });
  });
}

/** Kills a detached child's whole process group (wrangler, esbuild, workerd). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const operatorToken = options.operatorToken ?? `e2e-operator-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const verbose = options.verbose ?? process.env.TOLLGATE_E2E_LOG === "1";
  const dir = mkdtempSync(join(tmpdir(), "tollgate-e2e-"));
  const persistDir = join(dir, "state");
  const bundleDir = join(dir, "bundle");
  let child: ChildProcess | null = null;
  let output = "";
  let exited = false;

  // If the test process dies without calling stop(), do not leave workerd behind.
  const onExit = () => {
    if (child && !exited) killGroup(child, "SIGKILL");
  };
  process.on("exit", onExit);

  const cleanup = () => {
    process.off("exit", onExit);
    rmSync(dir, { recursive: true, force: true });
  };

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      if (child && !exited) {
        const done = new Promise<void>((resolve) => child?.once("exit", () => resolve()));
        killGroup(child, "SIGTERM");
        const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5_000).unref());
        if ((await Promise.race([done, timeout])) === "timeout") {
          killGroup(child, "SIGKILL");
          await done;
        }
      }
      // workerd may outlive its parent by a moment; make sure the group is gone.
      if (child) killGroup(child, "SIGKILL");
      cleanup();
    })();
    return stopping;
  };

  // Starts `wrangler dev` on these ports and resolves with its URL once the Worker answers steadily.
  const launch = async (port: number, inspectorPort: number): Promise<string> => {
    // Everything the gateway needs comes from here, never from a developer's .dev.vars.
    // ALLOW_PRIVATE_ORIGINS: the tests' origins listen on 127.0.0.1 (never set in production).
    const vars = { OPERATOR_TOKEN: operatorToken, SIGNING_KEYS: TEST_SIGNING_KEYS, ALLOW_PRIVATE_ORIGINS: "true", ...options.vars };
    const args = [
      WRANGLER,
      "dev",
      join(bundleDir, "index.js"),
      "--config",
      join(ROOT, "wrangler.toml"),
      "--no-bundle",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistDir,
      "--show-interactive-dev-session=false",
      // Recorded at "log" (printed only when verbose), so a failure's `logs()` shows the Worker's
      // own errors and any reload of the dev server ("Reloading local server…").
      "--log-level",
      "log",
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ];
    const proc = spawn(process.execPath, args, { cwd: ROOT, env: ENV, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child = proc;
    exited = false;
    const record = (d: Buffer) => {
      const text = d.toString();
      output = (output + text).slice(-20_000);
      if (verbose) process.stderr.write(text);
    };
    proc.stdout?.on("data", record);
    proc.stderr?.on("data", record);
    proc.on("exit", () => (exited = true));

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    // Ready means the Worker itself answers several times in a row: on a loaded machine wrangler
    // dev may reload once just after its first answer ("Your worker restarted…" text from its proxy).
    let steady = 0;
    while (steady < 5) {
      if (exited) throw new Error(`wrangler dev exited before it was ready:\n${output}`);
      if (Date.now() > deadline) throw new Error(`wrangler dev did not answer on ${url} in time:\n${output}`);
      try {
        const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2_000) });
        const text = await res.text();
        steady = res.ok && text.startsWith("{") ? steady + 1 : 0;
      } catch {
        steady = 0; // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return url;
  };

  try {
    await wrangler(["deploy", "--dry-run", "--outdir", bundleDir]);
    await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir]);

    // The ports were free a moment ago; another process (the workers test project, wrangler's own
    // helpers) can take one before wrangler binds it. Then wrangler exits with "Address already in
    // use" and we start it again on fresh ports.
    let url = "";
    for (let attempt = 1; ; attempt++) {
      try {
        url = await launch(await freePort(), await freePort());
        break;
      } catch (err) {
        if (attempt >= 3 || !exited || !/Address already in use|EADDRINUSE/.test(output)) throw err;
        if (child) killGroup(child, "SIGKILL");
        output = "";
      }
    }

    const d1 = async <Row>(sql: string): Promise<Row[]> => {
      const { stdout } = await wrangler(["d1", "execute", "DB", "--local", "--persist-to", persistDir, "--json", "--command", sql]);
      const start = stdout.indexOf("[");
      const parsed = JSON.parse(stdout.slice(start)) as { results: Row[]; success: boolean }[];
      return parsed.flatMap((r) => r.results);
    };

    return { url, operatorToken, persistDir, d1, logs: () => output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `read` until `check` passes (work settled off the response path), or throws its last failure. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => void, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return value;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
export type JsonResponse = { status: number; headers: Headers; body: Json };

/** What wrangler dev's own proxy answers when the runtime restarted under a request that was not a GET. */
const RESTARTED = "Your worker restarted mid-request";

/**
 * fetch for a gateway under `wrangler dev`, with a 15 s deadline. wrangler dev's local proxy
 * sometimes restarts the runtime once early in a session and answers a request it could not
 * deliver with 503 and `RESTARTED` (text, not the Worker's problem+json): that request never got
 * an answer from the Worker, so it is sent again, up to 3 times. Any answer from the Worker
 * itself — a 503 `ledger_unavailable` included — is returned as is. Fits where a client takes a
 * `fetch` (the MPP client).
 */
export async function gatewayFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const request = input instanceof Request ? input.clone() : input;
    const res = await fetch(request, { signal: AbortSignal.timeout(15_000), ...init });
    if (attempt >= 3 || res.status !== 503 || res.headers.get("content-type")?.includes("json")) return res;
    if (!(await res.clone().text()).startsWith(RESTARTED)) return res;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A JSON client for `gw`: `api(method, path, bearer token or null, body?, headers?)`. */
export function jsonClient(gw: Gateway) {
  return async (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> => {
    const res = await gatewayFetch(`${gw.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Json = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
}

/** What a test file talks to: a gateway, the demo origin, and a JSON client for the gateway. */
export type GatewayWorld = { gw: Gateway; origin: RunningOrigin; api: ReturnType<typeof jsonClient> };

/**
 * A gateway (private origins allowed, plus `vars`) and the demo origin for one test file: started
 * before its tests, stopped after them. Read the fields inside tests, once the hooks have run.
 */
export function gatewayWithOrigin(vars: Record<string, string> = {}): GatewayWorld {
  const world = {} as GatewayWorld;
  beforeAll(async () => {
    [world.gw, world.origin] = await Promise.all([startGateway({ vars: { ALLOW_PRIVATE_ORIGINS: "true", ...vars } }), startOrigin(0)]);
    world.api = jsonClient(world.gw);
  });
  afterAll(async () => {
    await world.gw?.stop();
    await world.origin?.close();
  });
  return world;
}
