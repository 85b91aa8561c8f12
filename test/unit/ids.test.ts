import { describe, expect, it } from "vitest";
import { accountOfRequest, newId, randomToken, requestIdFor, sha256Hex, timingSafeEqualHex } from "../../core/ids";

describe("ids", () => {
  it("sha256Hex is SHA-256 in lower-case hex (known vectors; agent and provider keys are stored this way)", async () => {
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex(new Uint8Array([0x61, 0x62, 0x63]).buffer)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // UTF-8, not UTF-16 or Latin-1.
    expect(await sha256Hex("é")).toBe("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
  });

  it("timingSafeEqualHex compares digests exactly", async () => {
    const a = await sha256Hex("tg_agent_one");
    expect(timingSafeEqualHex(a, a)).toBe(true);
    expect(timingSafeEqualHex(a, await sha256Hex("tg_agent_two"))).toBe(false);
    expect(timingSafeEqualHex(a, a.slice(1))).toBe(false);
  });

  it("ids are prefixed, [0-9a-z] and distinct; a request id names its account", () => {
    expect(randomToken(32)).toMatch(/^[0-9a-z]{32}$/);
    const ids = new Set(Array.from({ length: 1000 }, () => newId("hold")));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^hold_[0-9a-z]{20}$/);
    const account = newId("acct");
    expect(accountOfRequest(requestIdFor(account))).toBe(account);
  });
});
