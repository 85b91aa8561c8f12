/**
 * The signer (worker/proxy/signing.ts, signing-keys.ts) and the SDK's verifier (sdk/src) as plain
 * functions: known-answer vectors from RFC 9530 and RFC 9421, the signature's shape, every
 * rejection the SDK makes, and the SIGNING_KEYS configuration.
 */
import { describe, expect, it } from "vitest";
import { SigningKeys, type Env } from "../../worker/env";
import { chargeContextHeader, contentDigest, newNonce, signRequest, type SignInput } from "../../worker/proxy/signing";
import { publishedKeys, signingKeys, type Signer } from "../../worker/proxy/signing-keys";
import { signatureBase } from "../../sdk/src/base";
import { viewOf } from "../../sdk/src/message";
import { isInnerList, parseDictionary } from "../../sdk/src/structured";
import { MemoryReplayStore, verifyTollgateRequest, type PlainRequest, type VerifyOptions } from "../../sdk/src/index";
import { TEST_KEY_A, TEST_KEY_B, TEST_KEY_UNPUBLISHED, TEST_SIGNING_KEYS } from "../signing-keys";

const envWith = (signingKeysJson?: string) => ({ OPERATOR_TOKEN: "test-operator-token-0123456789", SIGNING_KEYS: signingKeysJson }) as unknown as Env;

async function signerOf(jwk: { kid: string; x: string; d: string }): Promise<Signer> {
  const privateKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d }, { name: "Ed25519" }, false, ["sign"]);
  return { kid: jwk.kid, privateKey };
}

const JWKS = { keys: publishedKeys(envWith(TEST_SIGNING_KEYS)) };
const SERVICE = "svc_unit0000000000000000";
const NOW = 1_760_000_000; // seconds

/** A request as Tollgate forwards it: signed by `key` (test-a) at NOW unless told otherwise. */
async function signed(over: Partial<SignInput> & { bodyText?: string | null } = {}): Promise<PlainRequest> {
  const bodyText = over.bodyText === undefined ? '{"hello": "world"}' : over.bodyText;
  const body = bodyText === null ? null : (new TextEncoder().encode(bodyText).buffer as ArrayBuffer);
  const headers = {
    "tollgate-request-id": "req_abc_def",
    "tollgate-charge-context": chargeContextHeader({ serviceId: SERVICE, hold: 2000, currency: "USD", meter: "call", deferred: false }),
  };
  const input: SignInput = {
    method: "POST",
    url: "https://api.example.com/v1/translate?b=2&a=1",
    headers,
    body,
    now: NOW,
    nonce: newNonce(),
    key: await signerOf(TEST_KEY_A),
    ...over,
  };
  const added = await signRequest(input);
  return {
    method: input.method,
    url: input.url,
    headers: { host: new URL(input.url).host, "content-type": "application/json", ...input.headers, ...added },
    body: bodyText,
  };
}

const options = (over: Partial<VerifyOptions> = {}): VerifyOptions =>
  ({ jwks: JWKS, serviceId: SERVICE, now: () => NOW * 1000 + 500, replayStore: new MemoryReplayStore(), ...over }) as VerifyOptions;

async function rejection(request: PlainRequest, opts: VerifyOptions = options()): Promise<string> {
  const result = await verifyTollgateRequest(request, opts);
  expect(result.ok, "expected a rejection").toBe(false);
  return result.ok ? "accepted" : result.error.code;
}

describe("content-digest (RFC 9530)", () => {
  it('matches the RFC\'s sha-256 example for {"hello": "world"}', async () => {
    const body = new TextEncoder().encode('{"hello": "world"}').buffer as ArrayBuffer;
    expect(await contentDigest(body)).toBe("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
  });
});

describe("the SDK's signature base (RFC 9421 known answer)", () => {
  it("verifies RFC 9421 §B.2.6 (Ed25519, test-key-ed25519)", async () => {
    const input = parseDictionary(
      'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    ).get("sig-b26");
    const sig = parseDictionary("sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:").get("sig-b26");
    if (!input || !isInnerList(input) || !sig || isInnerList(sig)) throw new Error("parse");
    const message = viewOf({
      method: "POST",
      url: "https://example.com/foo?param=Value&Pet=dog",
      headers: {
        date: "Tue, 20 Apr 2021 02:07:55 GMT",
        "content-type": "application/json",
        "content-digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        "content-length": "18",
      },
      body: '{"hello": "world"}',
    });
    const key = await crypto.subtle.importKey(
      "jwk",
      { kty: "OKP", crv: "Ed25519", x: "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs" },
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    const base = signatureBase(message, input);
    expect(base.split("\n")[0]).toBe('"date": Tue, 20 Apr 2021 02:07:55 GMT');
    expect(await crypto.subtle.verify({ name: "Ed25519" }, key, sig.value as Uint8Array, new TextEncoder().encode(base))).toBe(true);
  });

  it("parses structured fields strictly", () => {
    expect(() => parseDictionary("a=1,")).toThrow(SyntaxError);
    expect(() => parseDictionary('a="\\x"')).toThrow(SyntaxError);
    expect(() => parseDictionary("a=(1 2")).toThrow(SyntaxError);
    expect(() => parseDictionary("a=1234567890123456")).toThrow(SyntaxError);
    expect(() => parseDictionary("A=1")).toThrow(SyntaxError);
    const d = parseDictionary('x=("a" "b");n=1;s="q\\"", flag, t=tok/en, b=:AQID:');
    expect(d.get("flag")).toEqual({ value: true, params: new Map() });
    expect((d.get("b") as { value: Uint8Array }).value).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe("signRequest: what Tollgate adds to a forwarded request", () => {
  it("covers method, authority, path, query, content-digest, request id and charge context, with created/expires/nonce/keyid", async () => {
    const request = await signed();
    const h = request.headers as Record<string, string>;
    expect(h["content-digest"]).toBe("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
    expect(h["signature-input"]).toMatch(
      /^tollgate=\("@method" "@authority" "@path" "@query" "content-digest" "tollgate-request-id" "tollgate-charge-context"\);created=1760000000;expires=1760000060;nonce="[A-Za-z0-9_-]{22}";keyid="test-a";alg="ed25519";tag="tollgate"$/,
    );
    expect(h.signature).toMatch(/^tollgate=:[A-Za-z0-9+/]{86}==:$/);
    expect(h["tollgate-charge-context"]).toBe(`service="${SERVICE}", hold=2000, currency="USD", meter=call, deferred=?0`);
  });

  it("without a body, covers no content-digest; an absent query is '?'; the authority is normalized", async () => {
    const request = await signed({ method: "GET", url: "HTTP://API.Example.COM:80/p", bodyText: null });
    const h = request.headers as Record<string, string>;
    expect(h["content-digest"]).toBeUndefined();
    expect(h["signature-input"]).toContain('("@method" "@authority" "@path" "@query" "tollgate-request-id" "tollgate-charge-context")');
    const input = parseDictionary(h["signature-input"] as string).get("tollgate");
    if (!input || !isInnerList(input)) throw new Error("parse");
    const base = signatureBase(viewOf(request), input).split("\n");
    expect(base.slice(0, 4)).toEqual(['"@method": GET', '"@authority": api.example.com', '"@path": /p', '"@query": ?']);
    expect((await verifyTollgateRequest(request, options())).ok).toBe(true);
  });

  it("an empty body is still digested (so the SDK can tell 'no body' from 'empty body')", async () => {
    const h = (await signed({ bodyText: "" })).headers as Record<string, string>;
    expect(h["content-digest"]).toBe("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
  });

  it("nonces are 128 random bits", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newNonce()));
    expect(seen.size).toBe(1000);
    for (const n of seen) expect(n).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe("verifyTollgateRequest", () => {
  it("accepts a genuine request and returns its request id and charge context", async () => {
    const result = await verifyTollgateRequest(await signed(), options());
    expect(result).toMatchObject({
      ok: true,
      requestId: "req_abc_def",
      keyId: "test-a",
      created: NOW,
      expires: NOW + 60,
      charge: { serviceId: SERVICE, hold: 2000, currency: "USD", meter: "call", deferred: false },
    });
  });

  it("accepts a fetch Request too, and leaves its body readable", async () => {
    const plain = await signed();
    const request = new Request(plain.url, { method: plain.method, headers: plain.headers as Record<string, string>, body: plain.body as string });
    expect((await verifyTollgateRequest(request, options())).ok).toBe(true);
    expect(await request.text()).toBe('{"hello": "world"}');
  });

  it("rejects a tampered method, path, query or body", async () => {
    const genuine = await signed();
    expect(await rejection({ ...genuine, method: "PUT" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, url: "https://api.example.com/v1/admin?b=2&a=1" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, url: "https://api.example.com/v1/translate?b=2&a=100" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, url: "https://api.example.com/v1/translate" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, url: "https://other.example.com/v1/translate?b=2&a=1" })).toBe("bad_signature");
    expect(await rejection({ ...genuine, body: '{"hello": "w0rld"}' })).toBe("digest_mismatch");
  });

  it("rejects a body added to a request signed without one", async () => {
    const bodiless = await signed({ method: "GET", bodyText: null });
    expect(await rejection({ ...bodiless, body: "smuggled" })).toBe("digest_mismatch");
  });

  it("rejects a body and digest both replaced (the digest is signed)", async () => {
    const genuine = await signed();
    const body = new TextEncoder().encode("other").buffer as ArrayBuffer;
    const headers = { ...(genuine.headers as Record<string, string>), "content-digest": await contentDigest(body) };
    expect(await rejection({ ...genuine, headers, body: "other" })).toBe("bad_signature");
  });

  it("rejects a changed request id or charge context", async () => {
    const genuine = await signed();
    const h = genuine.headers as Record<string, string>;
    expect(await rejection({ ...genuine, headers: { ...h, "tollgate-request-id": "req_abc_xyz" } })).toBe("bad_signature");
    const cheaper = (h["tollgate-charge-context"] as string).replace("hold=2000", "hold=2");
    expect(await rejection({ ...genuine, headers: { ...h, "tollgate-charge-context": cheaper } })).toBe("bad_signature");
  });

  it("rejects a missing signature, and one under another label", async () => {
    const genuine = await signed();
    const { signature, "signature-input": input, ...rest } = genuine.headers as Record<string, string>;
    expect(await rejection({ ...genuine, headers: rest })).toBe("missing_signature");
    expect(await rejection({ ...genuine, headers: { ...rest, "signature-input": input } })).toBe("missing_signature");
    const relabelled = {
      ...rest,
      signature: (signature as string).replace("tollgate=", "other="),
      "signature-input": (input as string).replace("tollgate=", "other="),
    };
    expect(await rejection({ ...genuine, headers: relabelled })).toBe("missing_signature");
  });

  it("rejects malformed or under-covering signature inputs", async () => {
    const genuine = await signed();
    const h = genuine.headers as Record<string, string>;
    const input = h["signature-input"] as string;
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": `${input},` } })).toBe("malformed_signature");
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": input.replace('"@query" ', "") } })).toBe("insufficient_coverage");
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": input.replace(/;nonce="[^"]+"/, "") } })).toBe("malformed_signature");
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": input.replace('tag="tollgate"', 'tag="web-bot-auth"') } })).toBe(
      "malformed_signature",
    );
    expect(await rejection({ ...genuine, headers: { ...h, "signature-input": input.replace('alg="ed25519"', 'alg="hmac-sha256"') } })).toBe(
      "malformed_signature",
    );
  });

  it("rejects a stale created, an expired signature, and one from the future", async () => {
    // Created 10 minutes ago with a (too) long lifetime: still refused by maxAgeSeconds.
    expect(await rejection(await signed({ now: NOW - 600, ttlSeconds: 3600 }))).toBe("stale");
    expect(await rejection(await signed({ now: NOW - 120 }))).toBe("expired");
    expect(await rejection(await signed({ now: NOW + 120 }))).toBe("not_yet_valid");
    // Within the allowed clock skew (30 s) it passes.
    expect((await verifyTollgateRequest(await signed({ now: NOW + 20 }), options())).ok).toBe(true);
    expect((await verifyTollgateRequest(await signed({ now: NOW - 80 }), options())).ok).toBe(true);
  });

  it("rejects a reused nonce, and remembers it no longer than needed", async () => {
    const store = new MemoryReplayStore();
    const request = await signed();
    expect((await verifyTollgateRequest(request, options({ replayStore: store }))).ok).toBe(true);
    expect(await rejection(request, options({ replayStore: store }))).toBe("replayed");
    // A fresh nonce passes.
    expect((await verifyTollgateRequest(await signed(), options({ replayStore: store }))).ok).toBe(true);
    expect(store.size).toBe(2);
    store.consume("sweep", Number.MAX_SAFE_INTEGER, (NOW + 3600) * 1000);
    expect(store.size).toBe(1);
  });

  it("a forged request never uses up a genuine nonce", async () => {
    const store = new MemoryReplayStore();
    const genuine = await signed();
    expect(await rejection({ ...genuine, method: "DELETE" }, options({ replayStore: store }))).toBe("bad_signature");
    expect((await verifyTollgateRequest(genuine, options({ replayStore: store }))).ok).toBe(true);
  });

  it("uses one process-wide replay store by default", async () => {
    const request = await signed();
    const { replayStore: _, ...defaults } = options();
    expect((await verifyTollgateRequest(request, defaults as VerifyOptions)).ok).toBe(true);
    expect(await rejection(request, defaults as VerifyOptions)).toBe("replayed");
  });

  it("rejects an unknown keyid, and a known keyid whose signature is by another key", async () => {
    expect(await rejection(await signed({ key: await signerOf(TEST_KEY_UNPUBLISHED) }))).toBe("unknown_key");
    const impostor = await signerOf(TEST_KEY_UNPUBLISHED);
    expect(await rejection(await signed({ key: { ...impostor, kid: "test-a" } }))).toBe("bad_signature");
  });

  it("rotation: a signature by the second published key verifies", async () => {
    const result = await verifyTollgateRequest(await signed({ key: await signerOf(TEST_KEY_B) }), options());
    expect(result).toMatchObject({ ok: true, keyId: "test-b" });
  });

  it("rejects a genuine signature made for another service", async () => {
    expect(await rejection(await signed(), options({ serviceId: "svc_someoneelse000000000" }))).toBe("wrong_service");
    expect((await verifyTollgateRequest(await signed(), options({ serviceId: ["svc_other", SERVICE] }))).ok).toBe(true);
  });

  it("checks the authority it is told, not the Host header, when given one", async () => {
    const genuine = await signed();
    const proxied = { ...genuine, url: "http://10.0.0.7:8080/v1/translate?b=2&a=1" };
    expect(await rejection(proxied)).toBe("bad_signature");
    expect((await verifyTollgateRequest(proxied, options({ authority: "api.example.com" }))).ok).toBe(true);
  });

  it("answers key_fetch_failed (status 503) when the JWKS cannot be fetched", async () => {
    const result = await verifyTollgateRequest(await signed(), {
      ...options(),
      jwks: undefined,
      jwksUrl: "https://gateway.invalid/.well-known/jwks.json",
      fetch: async () => new Response("down", { status: 503 }),
    } as VerifyOptions);
    expect(result.ok).toBe(false);
    if (!result.ok) expect({ code: result.error.code, status: result.error.status }).toEqual({ code: "key_fetch_failed", status: 503 });
  });

  it("fetches the JWKS once, and again for a new keyid (at most every 30 s)", async () => {
    let fetches = 0;
    let published = [JWKS.keys[0]];
    const fetcher = async () => {
      fetches++;
      return Response.json({ keys: published });
    };
    let clock = NOW * 1000;
    const opts = (): VerifyOptions => ({
      jwksUrl: "https://gw.example/jwks-refetch",
      serviceId: SERVICE,
      fetch: fetcher,
      now: () => clock,
      replayStore: new MemoryReplayStore(),
    });
    expect((await verifyTollgateRequest(await signed(), opts())).ok).toBe(true);
    expect((await verifyTollgateRequest(await signed(), opts())).ok).toBe(true);
    expect(fetches).toBe(1);
    // test-b appears in the gateway's JWKS: too soon to refetch, then picked up.
    published = JWKS.keys;
    const byB = await signed({ key: await signerOf(TEST_KEY_B), now: NOW + 31 });
    expect(await rejection(byB, opts())).toBe("unknown_key");
    clock += 31_000;
    expect((await verifyTollgateRequest(byB, opts())).ok).toBe(true);
    expect(fetches).toBe(2);
  });
});

describe("SIGNING_KEYS", () => {
  const jwk = (over: Record<string, unknown> = {}) => ({ ...TEST_KEY_A, ...over });
  const parse = (value: unknown) => SigningKeys.safeParse(typeof value === "string" ? value : JSON.stringify(value));

  it("takes a JSON array of Ed25519 JWKs; keys after the first may be public only", () => {
    expect(parse([jwk()]).success).toBe(true);
    const { d: _, ...publicB } = TEST_KEY_B;
    expect(parse([jwk(), publicB]).success).toBe(true);
  });

  it.each([
    ["not JSON", "{nope"],
    ["an empty list", []],
    ["a public-only first key", [{ ...TEST_KEY_A, d: undefined }]],
    ["duplicate kids", [jwk(), jwk()]],
    ["a kid with a quote", [jwk({ kid: 'a"b' })]],
    ["another curve", [jwk({ crv: "P-256" })]],
    ["a short x", [jwk({ x: "abc" })]],
  ])("rejects %s", (_, value) => {
    expect(parse(value).success).toBe(false);
  });

  it("never repeats the private key in its errors", () => {
    const result = parse([jwk({ d: `${TEST_KEY_A.d}x` })]);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error)).not.toContain(TEST_KEY_A.d);
  });

  it("imports once per isolate: the same secret gives the same key set", async () => {
    const a = signingKeys(envWith(TEST_SIGNING_KEYS));
    const b = signingKeys(envWith(TEST_SIGNING_KEYS));
    expect(a).toBe(b);
    const keys = await a;
    expect(keys.signer.kid).toBe("test-a");
    expect(keys.jwks.keys.map((k) => k.kid)).toEqual(["test-a", "test-b"]);
    expect(keys.jwks.keys.every((k) => !("d" in k))).toBe(true);
  });

  it("refuses a key whose x is not the public key of its d, and an unset secret", async () => {
    const mismatched = JSON.stringify([{ ...TEST_KEY_A, x: TEST_KEY_B.x }]);
    await expect(signingKeys(envWith(mismatched))).rejects.toMatchObject({ code: "internal_error" });
    await expect(signingKeys(envWith(undefined))).rejects.toMatchObject({ code: "internal_error" });
  });
});
