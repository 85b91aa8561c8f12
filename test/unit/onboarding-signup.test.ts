/** The pieces of self-serve sign-up that need no storage: the seal on a retry's key, and the per-client limit. */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/ids";
import { lookupHash, seal, unseal } from "../../worker/onboarding/seal";
import { admitSignup, SIGNUP_WINDOW_MS } from "../../worker/onboarding/throttle";

describe("seal", () => {
  const idem = "0b6f3c3e-5a3b-4c55-9d1e-7f4e0c1d2a9b";
  const secret = "tg_prov_abcdefghij0123456789_abcdefghijklmnopqrstuvwxyz012345";

  it("opens with the Idempotency-Key it was sealed under, and with no other", async () => {
    const sealed = await seal(idem, secret);
    expect(await unseal(idem, sealed)).toBe(secret);
    expect(await unseal(`${idem}x`, sealed)).toBeNull();
    expect(await unseal(idem.toUpperCase(), sealed)).toBeNull();
  });

  it("hides the secret, is different every time, and a changed byte does not open", async () => {
    const [a, b] = [await seal(idem, secret), await seal(idem, secret)];
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret.slice(29));
    const flipped = a.slice(0, 20) + (a[20] === "A" ? "B" : "A") + a.slice(21);
    expect(await unseal(idem, flipped)).toBeNull();
  });

  it("the stored lookup digest is neither the key nor its plain SHA-256", async () => {
    const stored = await lookupHash(idem);
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toBe(await sha256Hex(idem));
    expect(stored).toBe(await lookupHash(idem));
    expect(stored).not.toBe(await lookupHash(`${idem} `));
  });
});

describe("admitSignup", () => {
  const t0 = 1_800_000_000_000;

  it("admits `limit` sign-ups per client per window, then answers the seconds left", () => {
    const client = "192.0.2.10";
    for (let i = 0; i < 3; i++) expect(admitSignup(client, null, 3, t0 + i)).toBe(0);
    expect(admitSignup(client, null, 3, t0 + 1_000)).toBe(Math.ceil((SIGNUP_WINDOW_MS - 1_000) / 1000));
    expect(admitSignup("192.0.2.11", null, 3, t0 + 1_000)).toBe(0);
    expect(admitSignup(client, null, 3, t0 + SIGNUP_WINDOW_MS)).toBe(0);
  });

  it("a retry (same client, same Idempotency-Key) is not counted again, even at the limit", () => {
    const client = "192.0.2.20";
    expect(admitSignup(client, "key-a", 2, t0)).toBe(0);
    for (let i = 0; i < 5; i++) expect(admitSignup(client, "key-a", 2, t0 + i)).toBe(0);
    expect(admitSignup(client, "key-b", 2, t0 + 10)).toBe(0);
    expect(admitSignup(client, "key-c", 2, t0 + 20)).toBeGreaterThan(0);
    expect(admitSignup(client, "key-a", 2, t0 + 30)).toBe(0);
    // The same key from another client is that client's sign-up.
    expect(admitSignup("192.0.2.21", "key-a", 1, t0)).toBe(0);
    expect(admitSignup("192.0.2.21", "key-z", 1, t0)).toBeGreaterThan(0);
  });

  it("a refused sign-up is not counted: the client is admitted again once the window ends", () => {
    const client = "192.0.2.30";
    expect(admitSignup(client, "k1", 1, t0)).toBe(0);
    expect(admitSignup(client, "k2", 1, t0 + 1)).toBeGreaterThan(0);
    // k2 was refused, so it is not a retry that skips the limit later in the same window.
    expect(admitSignup(client, "k2", 1, t0 + 2)).toBeGreaterThan(0);
    expect(admitSignup(client, "k2", 1, t0 + SIGNUP_WINDOW_MS)).toBe(0);
  });
});
