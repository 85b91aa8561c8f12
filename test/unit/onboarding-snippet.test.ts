/** The snippet a provider pastes is sdk/README.md's verifier, filled in, and imports what the SDK exports. */
import { describe, expect, it } from "vitest";
import readme from "../../sdk/README.md?raw";
import * as sdk from "../../sdk/src/index";
import { SDK_PACKAGE, sdkSnippet } from "../../worker/onboarding/snippet";
import { JWKS_PATH } from "../../worker/services/verification";

/** The README's step-2 code block, the one the snippet must be. */
function documentedVerifier(): string {
  const step = readme.slice(readme.indexOf("**2. Verify every request"));
  const block = /```ts\n([\s\S]*?)```/.exec(step);
  if (!block?.[1]) throw new Error("sdk/README.md: no step-2 code block");
  return block[1];
}

const input = { serviceId: "svc_abcdefghij0123456789", slug: "translate", gatewayUrl: "https://tollgate.example.com/some/path/" };

describe("sdkSnippet", () => {
  it("is the README's verifier with the service id and the gateway's JWKS URL in place of the placeholders", () => {
    const s = sdkSnippet(input);
    const expected = documentedVerifier().replace("https://<gateway>", "https://tollgate.example.com").replace("svc_8k2…", input.serviceId);
    expect(expected).not.toContain("<gateway>");
    expect(s.code).toBe(expected);
    expect(s.jwksUrl).toBe(`https://tollgate.example.com${JWKS_PATH}`);
    expect(s.code).toContain(`jwksUrl: "${s.jwksUrl}"`);
    expect(s.serviceUrl).toBe("https://tollgate.example.com/s/translate/");
  });

  it("imports only what the SDK exports, from the package's own name", async () => {
    const pkg = (await import("../../sdk/package.json")).default as { name: string };
    expect(SDK_PACKAGE).toBe(pkg.name);
    const imports = [...sdkSnippet(input).code.matchAll(/import \{([^}]+)\} from "([^"]+)"/g)];
    expect(imports.length).toBeGreaterThan(0);
    for (const [, names, from] of imports) {
      expect(from).toBe(pkg.name);
      for (const name of (names ?? "").split(",").map((n) => n.trim())) expect(typeof (sdk as Record<string, unknown>)[name], name).toBe("function");
    }
  });

  it("installs the package by name, or from where the operator hosts the tarball", () => {
    expect(sdkSnippet(input).install).toBe("npm install @tollgate/sdk");
    expect(sdkSnippet({ ...input, packageSource: "https://tollgate.example.com/sdk/tollgate-sdk-0.1.0.tgz" }).install).toBe(
      "npm install https://tollgate.example.com/sdk/tollgate-sdk-0.1.0.tgz",
    );
  });

  it("quotes what it fills in as JavaScript strings (an odd service id cannot break out of the code)", () => {
    const s = sdkSnippet({ ...input, serviceId: 'svc_"; alert(1); "' });
    expect(s.code).toContain('serviceId: "svc_\\"; alert(1); \\""');
  });
});
