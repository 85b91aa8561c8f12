/**
 * Tollgate's public keys: a JWKS fetched from the gateway (and cached), or one given inline. Only
 * Ed25519 keys (`kty: "OKP"`, `crv: "Ed25519"`) with a `kid` are used; anything else is ignored.
 */

export type Jwk = { kty?: string; crv?: string; x?: string; kid?: string; [member: string]: unknown };
export type Jwks = { keys: Jwk[] };
export type FetchLike = (url: string) => Promise<Response>;

type VerifyKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** Keys are refetched this long after a fetch (and sooner when a signature names an unknown key). */
const MAX_AGE_MS = 5 * 60_000;
/** An unknown `keyid` refetches at most this often, so junk key ids cannot flood the gateway. */
const MIN_REFETCH_MS = 30_000;
const RETRY_MS = 5_000;

export class KeyFetchError extends Error {
  override readonly name = "KeyFetchError";
}

/** Looks keys up by `kid`. */
export interface KeySource {
  get(kid: string, now: number): Promise<VerifyKey | null>;
}

/** A fixed JWKS (no network). */
export class StaticKeys implements KeySource {
  private readonly keys: Promise<Map<string, VerifyKey>>;

  constructor(jwks: Jwks) {
    this.keys = importAll(jwks);
  }

  async get(kid: string): Promise<VerifyKey | null> {
    return (await this.keys).get(kid) ?? null;
  }
}

/** A JWKS URL, fetched on first use, refreshed every few minutes or when a new `kid` shows up. */
export class RemoteKeys implements KeySource {
  private keys: Map<string, VerifyKey> | null = null;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  /** After a failed fetch, none before this: a gateway that is down is not asked once per call. */
  private retryAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly fetcher: FetchLike = (u) => fetch(u),
  ) {}

  async get(kid: string, now: number): Promise<VerifyKey | null> {
    const age = now - this.fetchedAt;
    const due = !this.keys || age >= MAX_AGE_MS || (!this.keys.has(kid) && age >= MIN_REFETCH_MS);
    if (due && now >= this.retryAt) {
      try {
        await this.refresh(now);
      } catch (err) {
        this.retryAt = now + RETRY_MS;
        // Keys fetched before stay usable while the gateway cannot be reached.
        if (!this.keys) throw err;
      }
    } else if (!this.keys) {
      throw new KeyFetchError(`${this.url} could not be fetched; retrying shortly`);
    }
    return this.keys?.get(kid) ?? null;
  }

  private refresh(now: number): Promise<void> {
    // One fetch at a time, however many requests arrive while it runs.
    this.inflight ??= (async () => {
      try {
        const res = await this.fetcher(this.url);
        if (!res.ok) throw new KeyFetchError(`GET ${this.url} answered ${res.status}`);
        this.keys = await importAll((await res.json()) as Jwks);
        this.fetchedAt = now;
      } catch (err) {
        throw err instanceof KeyFetchError ? err : new KeyFetchError(`GET ${this.url} failed: ${String(err)}`);
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }
}

async function importAll(jwks: Jwks): Promise<Map<string, VerifyKey>> {
  if (!jwks || !Array.isArray(jwks.keys)) throw new KeyFetchError("not a JWKS (no keys array)");
  const out = new Map<string, VerifyKey>();
  for (const jwk of jwks.keys) {
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.kid !== "string" || typeof jwk.x !== "string") continue;
    if (!/^[A-Za-z0-9_-]{43}$/.test(jwk.x)) continue;
    // Only the public members: runtimes differ on which `alg` spellings they accept.
    out.set(jwk.kid, await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"]));
  }
  return out;
}
