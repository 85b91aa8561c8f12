/** signRequest (worker/proxy/signing.ts): the headers and signature Tollgate adds to a forwarded request. */
import { describe, expect, it } from "vitest";
import { newNonce } from "../../worker/proxy/signing";
import { signatureBase } from "../../sdk/src/base";
import { viewOf } from "../../sdk/src/message";
import { isInnerList, parseDictionary } from "../../sdk/src/structured";
import { verifyTollgateRequest } from "../../sdk/src/index";
import { options, SERVICE, signed } from "./signing-fixtures";

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
