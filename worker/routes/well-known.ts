import { createRoute, z } from "@hono/zod-openapi";
import { publishedKeys } from "../proxy/signing-keys";
import { JWKS_PATH } from "../services/verification";
import { router } from "./common";

const Jwk = z
  .object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: z.string().openapi({ description: "The public key, base64url." }),
    kid: z.string().openapi({ description: "Equal to the `keyid` of the signatures it verifies." }),
    alg: z.literal("Ed25519"),
    use: z.literal("sig"),
  })
  .openapi("Jwk");

const Jwks = z.object({ keys: z.array(Jwk) }).openapi("Jwks", {
  description: "Tollgate's Ed25519 verification keys. During a rotation two are listed: a signature by either is valid.",
});

/**
 * Public keys change only on a deploy; origins may cache them for a few minutes (the SDK also
 * refetches when it meets an unknown `keyid`, so a new key is picked up at once).
 */
const CACHE_CONTROL = "public, max-age=300";

function jwksRoute(path: string, mediaType: string, summary: string) {
  return createRoute({
    method: "get",
    path,
    summary,
    responses: { 200: { description: "The published keys", content: { [mediaType]: { schema: Jwks } } } },
  });
}

/** The JWKS at both well-known addresses; public, like the keys in it. */
export const wellKnownRoutes = router()
  .openapi(
    jwksRoute(
      JWKS_PATH,
      "application/http-message-signatures-directory+json",
      "Tollgate's signature verification keys (public; HTTP Message Signatures directory)",
    ),
    (c) =>
      c.body(JSON.stringify({ keys: publishedKeys(c.env) }), 200, {
        "content-type": "application/http-message-signatures-directory+json",
        "cache-control": CACHE_CONTROL,
      }),
  )
  .openapi(jwksRoute("/.well-known/jwks.json", "application/json", "Tollgate's signature verification keys (public; JWKS)"), (c) => {
    c.header("cache-control", CACHE_CONTROL);
    return c.json({ keys: publishedKeys(c.env) }, 200);
  });
