import { JWKS_PATH } from "../services/verification";

/** The SDK's package name, as provider code imports it (sdk/package.json). */
export const SDK_PACKAGE = "@tollgate/sdk";

/**
 * What a provider pastes into its origin for one service: the install line, and the verifier of
 * sdk/README.md ("Provider integration") with the service id and the gateway's JWKS URL filled in.
 */
export function sdkSnippet(input: { serviceId: string; slug: string; gatewayUrl: string }): { install: string; code: string } {
  const jwksUrl = `${new URL(input.gatewayUrl).origin}${JWKS_PATH}`;
  const code = `import { verifyTollgateRequest } from "${SDK_PACKAGE}";

// Calls to "${input.slug}" come only through the gateway, signed with its key.
const options = { jwksUrl: ${JSON.stringify(jwksUrl)}, serviceId: ${JSON.stringify(input.serviceId)} };

export default {
  async fetch(request: Request): Promise<Response> {
    const paid = await verifyTollgateRequest(request, options);
    if (!paid.ok) return Response.json({ error: paid.error.code }, { status: paid.error.status });
    // … your API; the request body is still readable here …
    return Response.json({ ok: true, request_id: paid.requestId });
  },
};
`;
  return { install: `npm install ${SDK_PACKAGE}`, code };
}
