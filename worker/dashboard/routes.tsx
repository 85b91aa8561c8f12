import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import { authFailures, clientOf } from "../auth/throttle";
import { config, type AppEnv } from "../env";
import type { DashEnv } from "./context";
import { sessionCsrfValid, signInCsrfValid } from "./csrf";
import { HOME } from "./nav";
import { ownerPages } from "./pages/owner";
import { providerPages } from "./pages/provider";
import { signInPage } from "./pages/signin";
import { signUp, signUpPage } from "./pages/signup";
import { forbiddenPage, notFoundPage, page } from "./render";
import { endSession, readSession, startSession } from "./session";
import { verifyDashboardKey } from "./verify-key";

/**
 * The web dashboard, server-rendered HTML under /dashboard (not part of /openapi.json). Order:
 * headers → sign-in/out → session → CSRF on every POST → the role's pages (another role: 404).
 */
export const dashboardRoutes = new Hono<DashEnv>();

dashboardRoutes.use("*", bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text("Form too large.", 413) }));
dashboardRoutes.use("*", async (c, next) => {
  await next();
  c.header("cache-control", "no-store");
  c.header("x-frame-options", "DENY");
  // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on our own form POSTs.
  c.header("referrer-policy", "same-origin");
  c.header("x-content-type-options", "nosniff");
  if (!c.res.headers.has("content-security-policy")) {
    c.header(
      "content-security-policy",
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
  }
});

const asApp = (c: Context<DashEnv>) => c as unknown as Context<AppEnv>;

dashboardRoutes.get("/signin", async (c) => {
  const session = await readSession(asApp(c));
  if (session) return c.redirect(HOME[session.principal.role], 303);
  return signInPage(c, null);
});

dashboardRoutes.post("/signin", async (c) => {
  if (!(await signInCsrfValid(asApp(c))))
    return forbiddenPage(c, "This form has expired or did not come from this site. Reload the sign-in page and try again.");
  // The API's limit on failed authentications applies to the form too (auth/throttle.ts).
  const client = clientOf(c.req.raw.headers);
  const wait = authFailures.retryAfter(client, config(c.env).AUTH_FAILURE_LIMIT, Date.now());
  if (wait > 0) return signInPage(c, `Too many failed sign-ins from this address; retry in ${wait} s.`, 429);
  const key = (await c.req.parseBody()).key;
  const check = typeof key === "string" ? await verifyDashboardKey(c.env, key.trim()) : ({ ok: false, reason: "invalid_key" } as const);
  if (!check.ok) {
    if (check.reason === "invalid_key") authFailures.fail(client, Date.now());
    const why = check.reason === "wrong_kind" ? "Agent keys cannot sign in: use the account's owner key or a provider key." : "That key is not valid.";
    return signInPage(c, why, 401);
  }
  // Signing in again (perhaps with another key) ends the session this browser had.
  const previous = await readSession(asApp(c));
  if (previous) await endSession(asApp(c), previous, false); // the new cookie replaces it
  await startSession(asApp(c), check.principal, check.keyHash);
  return c.redirect(HOME[check.principal.role], 303);
});

// Public: a provider signs up (when the gateway offers it), gets its key once and is signed in.
dashboardRoutes.get("/signup", (c) => signUpPage(c, null));
dashboardRoutes.post("/signup", signUp);

// Every other page needs a live session; every POST needs its CSRF token.
dashboardRoutes.use("*", async (c, next) => {
  const session = await readSession(asApp(c));
  if (!session) {
    if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect("/dashboard/signin", 303);
    return forbiddenPage(c, "You are signed out. Sign in again.");
  }
  c.set("session", session);
  if (c.req.method !== "GET" && c.req.method !== "HEAD" && !(await sessionCsrfValid(asApp(c), session))) {
    return forbiddenPage(c, "This form did not carry a valid security token (CSRF). Reload the page and try again.");
  }
  await next();
});

dashboardRoutes.post("/signout", async (c) => {
  await endSession(asApp(c), c.get("session"));
  return c.redirect("/dashboard/signin", 303);
});

dashboardRoutes.get("/", (c) => c.redirect(HOME[c.get("session").principal.role], 303));

/** A role's pages: any other role gets the same 404 as a page that does not exist. */
function onlyFor(role: "owner" | "provider") {
  return async (c: Context<DashEnv>, next: () => Promise<void>) => {
    if (c.get("session").principal.role !== role) return notFoundPage(c);
    await next();
  };
}

dashboardRoutes.use("/owner", onlyFor("owner"));
dashboardRoutes.use("/owner/*", onlyFor("owner"));
dashboardRoutes.use("/invoices/*", onlyFor("owner"));
dashboardRoutes.route("/", ownerPages);
dashboardRoutes.use("/provider", onlyFor("provider"));
dashboardRoutes.use("/provider/*", onlyFor("provider"));
dashboardRoutes.route("/", providerPages);

dashboardRoutes.all("*", (c) => notFoundPage(c));
dashboardRoutes.onError((err, c) => {
  console.error("dashboard error", c.req.method, c.req.path, err);
  return page(c, <p>Something went wrong.</p>, 500);
});
