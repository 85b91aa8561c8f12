import { JWKS_PATH } from "../services/verification";

/** The SDK's package name, as provider code imports it (sdk/package.json). */
export const SDK_PACKAGE = "@tollgate/sdk";

export type SnippetInput = {
  serviceId: string;
  slug: string;
  /** The gateway's public base URL, e.g. https://tollgate.example.com (a path or trailing slash is ignored). */
  gatewayUrl: string;
  /**
   * What `npm install` is given: the package name once the operator publishes it to a registry,
   * or the URL or path of the tarball `npm pack` writes in sdk/ (sdk/README.md, "Install").
   */
  packageSource?: string;
};

export type SdkSnippet = {
  /** The one shell line that installs the SDK in the provider's origin project. */
  install: string;
  /** The origin code that verifies every request (sdk/README.md, "Provider integration", step 2). */
  code: string;
  jwksUrl: string;
  /** Where agents call the service through the gateway. */
  serviceUrl: string;
};

/**
 * What a provider pastes into its origin for one service: the install line and the verifier with
 * the service id and the gateway's JWKS URL filled in. The code is sdk/README.md's step 2 with its
 * placeholders replaced (test/unit/onboarding-snippet.test.ts holds the two together).
 */
export function sdkSnippet(input: SnippetInput): SdkSnippet {
  const origin = new URL(input.gatewayUrl).origin;
  const jwksUrl = `${origin}${JWKS_PATH}`;
  const code = `import { verifyTollgateRequest } from "${SDK_PACKAGE}";

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
  return {
    install: `npm install ${input.packageSource ?? SDK_PACKAGE}`,
    code,
    jwksUrl,
    serviceUrl: `${origin}/s/${encodeURIComponent(input.slug)}/`,
  };
}
