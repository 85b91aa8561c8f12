import { config, type Env, type SigningJwk } from "../env";
import { ApiError } from "../errors";

/** The key that signs forwarded requests: its `kid` is the signature's `keyid`. */
export type Signer = { kid: string; privateKey: CryptoKey };

/** A published verification key (RFC 8037 OKP JWK; `alg` per RFC 9864). */
export type PublicJwk = { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "Ed25519"; use: "sig" };

/** The active signer, the published keys, and each published key imported for verifying (by kid). */
export type SigningKeySet = { signer: Signer; jwks: { keys: PublicJwk[] }; verifiers: Map<string, CryptoKey> };

const ED25519 = { name: "Ed25519" } as const;

// One import per isolate: keyed by the secret's text, so a redeploy with new keys (a new isolate,
// or a new env in tests) imports again, and the hot path only awaits a settled promise.
let cache: { source: string; keys: Promise<SigningKeySet> } | null = null;

/**
 * The configured signing keys, imported once per isolate. Throws `internal_error` when none are
 * configured: a call Tollgate cannot sign is never forwarded (the origin could not tell it was paid).
 */
export function signingKeys(env: Env): Promise<SigningKeySet> {
  const keys = config(env).SIGNING_KEYS;
  if (!keys) {
    console.error("SIGNING_KEYS is not configured: proxied calls are refused");
    return Promise.reject(new ApiError("internal_error", "The gateway has no signing key, so it cannot forward calls."));
  }
  const source = env.SIGNING_KEYS as string;
  if (cache?.source !== source) {
    const loading = load(keys);
    cache = { source, keys: loading };
    // A failed import is not kept: the next call tries again (and fails as loudly).
    loading.catch(() => {
      if (cache?.keys === loading) cache = null;
    });
  }
  return cache.keys;
}

/** Published keys only, for the JWKS: no import needed, so it also works while signing is broken. */
export function publishedKeys(env: Env): PublicJwk[] {
  return (config(env).SIGNING_KEYS ?? []).map(publicJwk);
}

function publicJwk(k: SigningJwk): PublicJwk {
  return { kty: "OKP", crv: "Ed25519", x: k.x, kid: k.kid, alg: "Ed25519", use: "sig" };
}

async function load(keys: SigningJwk[]): Promise<SigningKeySet> {
  const active = keys[0] as SigningJwk & { d: string };
  const privateKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: active.x, d: active.d }, ED25519, false, ["sign"]);
  await assertPair(active, privateKey);
  const verifiers = new Map<string, CryptoKey>();
  for (const k of keys) verifiers.set(k.kid, await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: k.x }, ED25519, false, ["verify"]));
  return { signer: { kid: active.kid, privateKey }, jwks: { keys: keys.map(publicJwk) }, verifiers };
}

/**
 * A private key whose `x` is not its own public key would sign every call with a signature no
 * origin can verify; check the pair once at import rather than find out from the origins.
 */
async function assertPair(jwk: SigningJwk, privateKey: CryptoKey): Promise<void> {
  const publicKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, ED25519, false, ["verify"]);
  const probe = new TextEncoder().encode("tollgate signing key check");
  const signature = await crypto.subtle.sign(ED25519, privateKey, probe);
  if (!(await crypto.subtle.verify(ED25519, publicKey, signature, probe))) {
    console.error(`SIGNING_KEYS: key '${jwk.kid}' has an x that is not the public key of its d`);
    throw new ApiError("internal_error", "The gateway's signing key is misconfigured.");
  }
}
