/** The SDK's signature base and structured-field parser (sdk/src) against RFC 9421's known answer. */
import { describe, expect, it } from "vitest";
import { signatureBase } from "../../sdk/src/base";
import { viewOf } from "../../sdk/src/message";
import { isInnerList, parseDictionary } from "../../sdk/src/structured";

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
