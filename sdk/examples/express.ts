/**
 * An Express origin behind Tollgate. Run it with
 *   TOLLGATE_JWKS_URL=https://<gateway>/.well-known/http-message-signatures-directory \
 *   TOLLGATE_SERVICE_ID=svc_… PORT=9200 npx tsx sdk/examples/express.ts
 */
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { fromNodeRequest, verifyTollgateRequest, type VerifiedRequest, type VerifyOptions } from "../src/index.js"; // "@tollgate/sdk"

/** Verifies every request; the verified call is in `res.locals.tollgate`. */
function tollgate(options: VerifyOptions) {
  return async (req: Request, res: Response, next: NextFunction) => {
    // express.raw() left the exact bytes in req.body (undefined when there was no body).
    const body = Buffer.isBuffer(req.body) ? req.body : null;
    const result = await verifyTollgateRequest(fromNodeRequest(req, body), options);
    if (!result.ok) {
      res.status(result.error.status).json({ error: result.error.code, message: result.error.message });
      return;
    }
    res.locals.tollgate = result;
    next();
  };
}

export function createOrigin(options: VerifyOptions): Express {
  const app = express();
  // The signature covers the exact body bytes: keep them raw, verify, then parse.
  app.use(express.raw({ type: () => true, limit: "10mb" }));
  // Step 2 of the integration.
  app.use(tollgate(options));

  app.post("/v1/translate", (req, res) => {
    const { text = "" } = JSON.parse((req.body as Buffer | undefined)?.toString("utf8") || "{}") as { text?: string };
    const paid = res.locals.tollgate as VerifiedRequest;
    // Step 3: the request id ties this work to Tollgate's charge.
    res.json({ translation: [...text].reverse().join(""), request_id: paid.requestId, max_charge: paid.charge.hold });
  });

  app.use((req, res) => {
    const paid = res.locals.tollgate as VerifiedRequest;
    res.json({ method: req.method, path: req.path, request_id: paid.requestId, charge: paid.charge });
  });
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 9200);
  createOrigin({ jwksUrl: process.env.TOLLGATE_JWKS_URL ?? "", serviceId: process.env.TOLLGATE_SERVICE_ID ?? "" }).listen(port, () =>
    console.log(`origin on http://127.0.0.1:${port}`),
  );
}
