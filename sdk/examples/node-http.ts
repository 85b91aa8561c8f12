/**
 * A plain Node `http` origin behind Tollgate (no framework). Run it with
 *   TOLLGATE_JWKS_URL=https://<gateway>/.well-known/http-message-signatures-directory \
 *   TOLLGATE_SERVICE_ID=svc_… PORT=9100 npx tsx sdk/examples/node-http.ts
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fromNodeRequest, verifyTollgateRequest, type VerifyOptions } from "../src/index.js"; // "@tollgate/sdk"

/** The signature covers the exact bytes, so read the raw body before any parsing. */
async function rawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export function createOrigin(options: VerifyOptions): Server {
  return createServer(async (req, res) => {
    try {
      const body = await rawBody(req);
      // Step 2 of the integration: verify before doing any work.
      const result = await verifyTollgateRequest(fromNodeRequest(req, body), options);
      if (!result.ok) return json(res, result.error.status, { error: result.error.code, message: result.error.message });

      const url = new URL(req.url ?? "/", "http://origin");
      if (req.method === "POST" && url.pathname === "/v1/translate") {
        const { text = "" } = JSON.parse(body.toString("utf8") || "{}") as { text?: string };
        // Step 3: the request id ties this work to Tollgate's charge.
        return json(res, 200, { translation: [...text].reverse().join(""), request_id: result.requestId, max_charge: result.charge.hold });
      }
      return json(res, 200, { method: req.method, path: url.pathname, request_id: result.requestId, charge: result.charge });
    } catch (err) {
      json(res, 500, { error: String(err) });
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = createOrigin({ jwksUrl: process.env.TOLLGATE_JWKS_URL ?? "", serviceId: process.env.TOLLGATE_SERVICE_ID ?? "" });
  server.listen(Number(process.env.PORT ?? 9100), () => console.log(`origin on http://127.0.0.1:${process.env.PORT ?? 9100}`));
}
