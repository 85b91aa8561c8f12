import type { Context } from "hono";
import type { AppEnv } from "../env";
import type { Json } from "./api";

let app: ReturnType<typeof import("../app").buildApp> | null = null;

export type SignupOutcome =
  | { ok: true; providerId: string; apiKey: string }
  /** `unavailable`: this gateway has no public sign-up route (404, or 401 from the credential check); otherwise the API's refusal. */
  | { ok: false; status: number; body: Json; unavailable: boolean };

/**
 * A provider sign-up from the dashboard's form, through the API's own public route
 * (`POST /v1/signup`), so the form gets exactly the API's rules: whether sign-up is open, its
 * validation, its per-client limit (the browser's address is passed on) and its idempotency (a
 * resubmitted form answers the same provider and key). The route is called inside this isolate,
 * through the gateway's app, never over the network.
 */
export async function openProviderFromDashboard(c: Context<AppEnv>, input: { name: string; email: string }, idempotencyKey: string): Promise<SignupOutcome> {
  // Loaded on first use, not at module load: worker/app.ts mounts the dashboard, so a static import would be a cycle.
  app ??= (await import("../app")).buildApp();
  const headers = new Headers({ "content-type": "application/json", "idempotency-key": idempotencyKey });
  const client = c.req.header("cf-connecting-ip");
  if (client) headers.set("cf-connecting-ip", client);
  const request = new Request(new URL("/v1/signup", c.req.url), { method: "POST", headers, body: JSON.stringify(input) });
  const res = await app.fetch(request, c.env, c.executionCtx);
  const text = await res.text();
  let body: Json = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  if (res.status === 201 && typeof body?.api_key === "string" && typeof body?.provider?.id === "string") {
    return { ok: true, providerId: body.provider.id, apiKey: body.api_key };
  }
  return { ok: false, status: res.status, body, unavailable: res.status === 404 || res.status === 405 || res.status === 401 };
}
