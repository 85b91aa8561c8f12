import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./env";
import { ApiError, problemResponse, renderError } from "./errors";
import { newId } from "../core/ids";
import { canAccessAccount, requireCredential } from "./auth/principal";
import { noteAuthFailure, throttleFailedAuth } from "./auth/throttle";
import { assertCanonicalPath } from "./proxy/canonical";
import { assertWellFormedRequest } from "./proxy/request-guard";
import { benchRoutes } from "./bench-passthrough";
import { dashboardRoutes } from "./dashboard/routes";
import { config } from "./env";
import { sendQueuedCaptures } from "./account-client/capture-queue";
import { ledgerFor } from "./account-client/stub";
import { proxyCall } from "./proxy/handler";
import { accountRoutes } from "./routes/accounts";
import { agentKeyRoutes } from "./routes/agent-keys";
import { auditRoutes } from "./routes/audit";
import { ledgerRoutes } from "./routes/ledger";
import { mandateRoutes } from "./routes/mandates";
import { meRoutes } from "./routes/me";
import { payoutRoutes } from "./routes/payouts";
import { providerRoutes } from "./routes/providers";
import { hostnameRoutes } from "./routes/hostnames";
import { documentProxy } from "./routes/proxied";
import { reconciliationRoutes } from "./routes/reconciliation";
import { refundRoutes } from "./routes/refunds";
import { disputeRoutes } from "./routes/disputes";
import { passRoutes } from "./routes/passes";
import { tipRoutes } from "./routes/tips";
import { serviceRoutes } from "./routes/services";
import { statementRoutes } from "./routes/statements";
import { catalogRoutes } from "./routes/catalog";
import { signupRoutes } from "./routes/signup";
import { documentMcp } from "./mcp/openapi";
import { mcpEndpoint, mcpMethodNotAllowed } from "./mcp/server";
import { uncollectedRoutes } from "./routes/uncollected";
import { usageRoutes } from "./routes/usage";
import { usageReportRoutes } from "./routes/usage-reports";
import { wellKnownRoutes } from "./routes/well-known";
import { serviceByHostname, serviceBySlug } from "./services/cache";
import { isGatewayHost } from "./services/hostnames";

/** The largest JSON API request body (1 MiB). */
export const MAX_API_BODY = 1024 * 1024;

/** Sends the captures this isolate still queues for the account a request reads (null: none). */
function capturesSentFirst(accountOf: (c: Context<AppEnv>) => string | null): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = accountOf(c);
    if (id) await sendQueuedCaptures(id, () => ledgerFor(c.env, id));
    await next();
  };
}

/** Builds the Hono app: proxy by custom hostname, proxy by `/s/{slug}`, then the JSON API. */
export function buildApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.onError((err, c) => {
    noteAuthFailure(err, c);
    return renderError(err, c);
  });
  app.notFound(() => problemResponse(new ApiError("not_found", "No such endpoint.")));
  app.all("/__bench/*", benchRoutes); // inert unless the bench harness sets BENCH_PASSTHROUGH = "1" (bench/run.ts)

  // Every response names its request, errors included; a proxied call replaces the id with its
  // own, account-routable one (proxy/handler.ts), which is then the one the response gets.
  app.use("*", async (c, next) => {
    c.set("requestId", newId("req"));
    await next();
    if (!c.res.headers.has("tollgate-request-id")) c.res.headers.set("tollgate-request-id", c.get("requestId"));
  });

  // Before any auth, lookup or pricing decision: a request that could mean one thing here and
  // another at the origin is refused (request-guard.ts), and a client that keeps failing to
  // authenticate is told to wait before its next key costs a D1 or DO lookup (auth/throttle.ts).
  app.use("*", async (c, next) => {
    assertWellFormedRequest(c.req.raw);
    await next();
  });
  app.use("*", throttleFailedAuth);

  // A custom hostname belongs to one service: every path on it is that service's. The gateway's
  // own hosts (GATEWAY_HOSTS, and the local ones) never are, whatever a service claims, and a
  // claim routes only once it is active (services/hostnames.ts). No D1 query when warm (cache.ts).
  app.use("*", async (c, next) => {
    const url = new URL(c.req.url);
    if (isGatewayHost(url.hostname, config(c.env).GATEWAY_HOSTS)) return next();
    assertCanonicalPath(url.pathname);
    const service = await serviceByHostname(c.env, url.hostname.toLowerCase());
    if (!service) return next();
    return proxyCall(c, service, url.pathname, "");
  });

  app.route("/dashboard", dashboardRoutes); // server-rendered HTML, not in /openapi.json (docs/DASHBOARD.md)
  app.all("/s/:slug/*", proxyBySlug);
  app.all("/s/:slug", proxyBySlug);

  // The JSON API's bodies are small (a service's price rules are the largest); a bigger one is
  // refused before it is read or authenticated. Proxied bodies have their own cap (proxy/body.ts).
  const apiBodyLimit = bodyLimit({
    maxSize: MAX_API_BODY,
    onError: () => {
      throw new ApiError("payload_too_large", `JSON API bodies are limited to ${MAX_API_BODY} bytes.`, { max_bytes: MAX_API_BODY });
    },
  });
  app.use("/v1/*", apiBodyLimit);
  // The payment MCP server (mcp/server.ts): agent key checked first; call_service goes back
  // through this app, so a tool's call is metered, held and signed as any proxied call.
  app.use("/mcp", apiBodyLimit);
  app.post("/mcp", (c) => mcpEndpoint(c, async (request) => app.fetch(request, c.env, c.executionCtx)));
  app.on(["GET", "DELETE"], "/mcp", () => mcpMethodNotAllowed());
  app.use("/v1/*", requireCredential);
  // An account's reads see its served calls: captures this isolate still queues for the account
  // (worker/account-client/capture-queue.ts) are sent first, for those who may read it (the route
  // still decides what each one gets). An agent's key is checked by its ledger in the route;
  // sending first only sends early what would be sent within 100 ms anyway.
  app.use(
    "/v1/accounts/:id/*",
    capturesSentFirst((c) => {
      const id = c.req.param("id");
      return id && canAccessAccount(c.var.principal, id) ? id : null;
    }),
  );
  app.use(
    "/v1/me",
    capturesSentFirst((c) => (c.var.principal.role === "agent" ? c.var.principal.accountId : null)),
  );
  app.route("/", providerRoutes);
  app.route("/", accountRoutes);
  app.route("/", usageReportRoutes);
  app.route("/", auditRoutes);
  app.route("/", ledgerRoutes);
  app.route("/", reconciliationRoutes);
  app.route("/", refundRoutes);
  app.route("/", disputeRoutes);
  app.route("/", passRoutes);
  app.route("/", tipRoutes);
  app.route("/", payoutRoutes);
  app.route("/", agentKeyRoutes);
  app.route("/", serviceRoutes);
  app.route("/", uncollectedRoutes);
  app.route("/", hostnameRoutes);
  app.route("/", mandateRoutes);
  app.route("/", meRoutes);
  app.route("/", usageRoutes);
  app.route("/", wellKnownRoutes);
  app.route("/", statementRoutes);
  app.route("/", catalogRoutes);
  app.route("/", signupRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  documentProxy(app);
  documentMcp(app);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Tollgate",
      version: "0.1.0",
      description:
        "Metering and settlement gateway for AI-agent calls. Money is integer micro-units of the account's currency. " +
        "Errors are application/problem+json with a stable `code`. Proxied calls: any method on /s/{slug}/{path} " +
        "or on a service's custom hostname, with the agent key as Bearer token or x-api-key.",
    },
  });
  app.get("/", (c) => c.json({ name: "tollgate", docs: "/openapi.json" }));
  return app;
}

async function proxyBySlug(c: Parameters<typeof proxyCall>[0]): Promise<Response> {
  const url = new URL(c.req.url);
  // The raw path, before any decoding, is what must be canonical.
  assertCanonicalPath(url.pathname);
  const slug = c.req.param("slug") ?? "";
  const rest = url.pathname.slice(`/s/${slug}`.length) || "/";
  const service = await serviceBySlug(c.env, slug);
  if (!service) throw new ApiError("unknown_service", `No service has the slug '${slug}'.`);
  return proxyCall(c, service, rest, `/s/${slug}`);
}
