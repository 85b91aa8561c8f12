import { z } from "@hono/zod-openapi";
import type { Env } from "../env";
import { publishedKeys } from "../proxy/signing-keys";
import { COVERED_COMPONENTS, SIGNATURE_ALG, SIGNATURE_LABEL, SIGNATURE_TTL_SECONDS } from "../proxy/signing";

/** Where the gateway publishes its verification keys (routes/well-known.ts). */
export const JWKS_PATH = "/.well-known/http-message-signatures-directory";

export const Verification = z
  .object({
    jwks_url: z.string().openapi({ description: "The gateway's public keys (a JWKS); each key's `kid` is a signature's `keyid`." }),
    keyids: z.array(z.string()).openapi({ description: "The keys in use, the signing one first; a signature by any of them is valid." }),
    algorithm: z.literal(SIGNATURE_ALG),
    signature_label: z.string().openapi({ description: "The label in `Signature` and `Signature-Input`, also the signature's `tag`." }),
    covered_components: z
      .array(z.string())
      .openapi({ description: "What the signature covers; `content-digest` (RFC 9530, sha-256) when the request has a body." }),
    max_age_seconds: z.number().int().openapi({ description: "`expires` − `created` of every signature." }),
  })
  .openapi("Verification", { description: "What the service's origin needs to verify Tollgate's RFC 9421 signature (see the SDK in sdk/)." });

export type Verification = z.infer<typeof Verification>;

/**
 * Verification material for a service's origin, derived from the gateway's configuration and
 * the address it was reached at (not stored: a key rotation shows at once on every service).
 */
export function verificationMaterial(env: Env, requestUrl: string): Verification {
  return {
    jwks_url: new URL(JWKS_PATH, requestUrl).toString(),
    keyids: publishedKeys(env).map((k) => k.kid),
    algorithm: SIGNATURE_ALG,
    signature_label: SIGNATURE_LABEL,
    covered_components: [...COVERED_COMPONENTS],
    max_age_seconds: SIGNATURE_TTL_SECONDS,
  };
}
