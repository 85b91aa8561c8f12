import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { newId } from "../../core/ids";
import { sendQueuedCaptures } from "../account-client/capture-queue";
import { ledgerFor } from "../account-client/stub";
import type { Principal } from "../auth/roles";
import type { AppEnv } from "../env";
import { ApiError, renderError } from "../errors";
import { accountRoutes } from "../routes/accounts";
import { agentKeyRoutes } from "../routes/agent-keys";
import { auditRoutes } from "../routes/audit";
import { disputeRoutes } from "../routes/disputes";
import { mandateRoutes } from "../routes/mandates";
import { passRoutes } from "../routes/passes";
import { payoutRoutes } from "../routes/payouts";
import { refundRoutes } from "../routes/refunds";
import { serviceRoutes } from "../routes/services";
import { statementRoutes } from "../routes/statements";
import { uncollectedRoutes } from "../routes/uncollected";
import { usageReportRoutes } from "../routes/usage-reports";
import type { DashboardPrincipal } from "./session";

/**
 * Why pages call the API's own route handlers: every rule about who may see or change what
 * (404 for another's account, a mandate's limits, a dispute's window, input validation) is
 * decided in one place, the routes, and the dashboard cannot drift from it. The pages call the
 * JSON API routes through this app, which is never mounted on the network: it takes its
 * principal from the signed-in session (keyed by the Request object, which only this module
 * creates), not from a header, so no key is kept to replay and nothing outside can reach it.
 */
const principals = new WeakMap<Request, Principal>();

let internal: OpenAPIHono<AppEnv> | null = null;

function internalApp(): OpenAPIHono<AppEnv> {
  if (internal) return internal;
  const app = new OpenAPIHono<AppEnv>();
  app.onError((err, c) => renderError(err, c));
  app.use("*", async (c, next) => {
    const principal = principals.get(c.req.raw);
    if (!principal) throw new ApiError("unauthorized");
    c.set("requestId", newId("req"));
    c.set("principal", principal);
    // As the public app does for an owner's reads: this isolate's queued captures go first.
    if (principal.role === "owner") await sendQueuedCaptures(principal.accountId, () => ledgerFor(c.env, principal.accountId));
    await next();
  });
  for (const routes of [
    accountRoutes,
    agentKeyRoutes,
    auditRoutes,
    disputeRoutes,
    mandateRoutes,
    passRoutes,
    payoutRoutes,
    refundRoutes,
    serviceRoutes,
    statementRoutes,
    uncollectedRoutes,
    usageReportRoutes,
  ]) {
    app.route("/", routes);
  }
  internal = app;
  return app;
}

/** A JSON API answer: the body parsed (problem+json on failure), or the raw text for other types. */
export type ApiResult<T = Json> = { ok: boolean; status: number; body: T; text: string; contentType: string };

// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field in the pages
export type Json = any;

export type DashboardApi = {
  get: <T = Json>(path: string) => Promise<ApiResult<T>>;
  send: <T = Json>(method: "POST" | "PATCH" | "PUT" | "DELETE", path: string, body?: unknown) => Promise<ApiResult<T>>;
};

/** The API as the session's principal sees it. */
export function apiFor(c: Context<AppEnv>, principal: DashboardPrincipal): DashboardApi {
  const call = async (method: string, path: string, body?: unknown): Promise<ApiResult> => {
    const request = new Request(`http://dashboard.internal${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    principals.set(request, principal);
    const res = await internalApp().fetch(request, c.env, c.executionCtx);
    const text = await res.text();
    const contentType = res.headers.get("content-type") ?? "";
    let parsed: Json = text;
    if (contentType.includes("json")) parsed = text ? JSON.parse(text) : null;
    return { ok: res.ok, status: res.status, body: parsed, text, contentType };
  };
  return { get: (path) => call("GET", path), send: (method, path, body) => call(method, path, body) };
}
