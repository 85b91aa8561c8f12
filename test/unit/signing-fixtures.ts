// Shared by the signing tests: a request signed as Tollgate forwards it, the SDK's verify options
// against the test JWKS, and a helper that expects a rejection and returns its code.
import { expect } from "vitest";
import type { Env } from "../../worker/env";
import { chargeContextHeader, newNonce, signRequest, type SignInput } from "../../worker/proxy/signing";
import { publishedKeys, type Signer } from "../../worker/proxy/signing-keys";
import { MemoryReplayStore, verifyTollgateRequest, type PlainRequest, type VerifyOptions } from "../../sdk/src/index";
import { TEST_KEY_A, TEST_SIGNING_KEYS } from "../signing-keys";

export const envWith = (signingKeysJson?: string) => ({ OPERATOR_TOKEN: "test-operator-token-0123456789", SIGNING_KEYS: signingKeysJson }) as unknown as Env;

export async function signerOf(jwk: { kid: string; x: string; d: string }): Promise<Signer> {
  const privateKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d }, { name: "Ed25519" }, false, ["sign"]);
  return { kid: jwk.kid, privateKey };
}

export const JWKS = { keys: publishedKeys(envWith(TEST_SIGNING_KEYS)) };
export const SERVICE = "svc_unit0000000000000000";
export const NOW = 1_760_000_000; // seconds

/** A request as Tollgate forwards it: signed by `key` (test-a) at NOW unless told otherwise. */
export async function signed(over: Partial<SignInput> & { bodyText?: string | null } = {}): Promise<PlainRequest> {
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

export const options = (over: Partial<VerifyOptions> = {}): VerifyOptions =>
  ({ jwks: JWKS, serviceId: SERVICE, now: () => NOW * 1000 + 500, replayStore: new MemoryReplayStore(), ...over }) as VerifyOptions;

export async function rejection(request: PlainRequest, opts: VerifyOptions = options()): Promise<string> {
  const result = await verifyTollgateRequest(request, opts);
  expect(result.ok, "expected a rejection").toBe(false);
  return result.ok ? "accepted" : result.error.code;
}
