/** The SIGNING_KEYS configuration: its parser (worker/env.ts) and the key import (worker/proxy/signing-keys.ts). */
import { describe, expect, it } from "vitest";
import { SigningKeys } from "../../worker/env";
import { signingKeys } from "../../worker/proxy/signing-keys";
import { TEST_KEY_A, TEST_KEY_B, TEST_SIGNING_KEYS } from "../signing-keys";
import { envWith } from "./signing-fixtures";

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
