/**
 * A Hono origin behind Tollgate (Cloudflare Workers, Bun, Deno, or Node with @hono/node-server).
 * Every route is verified first; a request that did not come through Tollgate gets 401.
 *
 *   TOLLGATE_JWKS_URL=https://<gateway>/.well-known/http-message-signatures-directory
 *   TOLLGATE_SERVICE_ID=svc_…        (both from the POST /v1/services response's `verification`)
 */
import { Hono } from "hono";
import { verifyTollgateRequest, type VerifiedRequest, type VerifyOptions } from "../src/index.js"; // "@tollgate/sdk"

type Paid = { Variables: { tollgate: VerifiedRequest } };

export function createOrigin(options: VerifyOptions): Hono<Paid> {
  const app = new Hono<Paid>();

  // Step 2 of the integration: verify, then serve. The body stays readable for the handlers.
  app.use("*", async (c, next) => {
    const result = await verifyTollgateRequest(c.req.raw, options);
    if (!result.ok) return c.json({ error: result.error.code, message: result.error.message }, result.error.status);
    c.set("tollgate", result);
    await next();
  });

  app.post("/v1/translate", async (c) => {
    const { text = "" } = await c.req.json<{ text?: string }>();
    const paid = c.get("tollgate");
    // Step 3: the request id ties this work to Tollgate's charge (and to a usage report, if deferred).
    return c.json({ translation: [...text].reverse().join(""), request_id: paid.requestId, max_charge: paid.charge.hold });
  });

  app.all("*", (c) => c.json({ method: c.req.method, path: c.req.path, request_id: c.get("tollgate").requestId, charge: c.get("tollgate").charge }));
  return app;
}

type Env = { TOLLGATE_JWKS_URL: string; TOLLGATE_SERVICE_ID: string };
let origin: Hono<Paid> | null = null;

/** As a Cloudflare Worker: the verifier (and its key cache) lives as long as the isolate. */
export default {
  fetch(request: Request, env: Env): Response | Promise<Response> {
    origin ??= createOrigin({ jwksUrl: env.TOLLGATE_JWKS_URL, serviceId: env.TOLLGATE_SERVICE_ID });
    return origin.fetch(request);
  },
};
