import { describe, expect, it } from "vitest";
import { clientOf, FailureLimiter, UNKNOWN_CLIENT, WINDOW_MS } from "../../worker/auth/throttle";

describe("FailureLimiter", () => {
  it("allows `limit` failures, then asks to wait until the window (from the first failure) ends", () => {
    const l = new FailureLimiter();
    const t0 = 1_000_000;
    for (let i = 0; i < 20; i++) {
      expect(l.retryAfter("a", 20, t0 + i)).toBe(0);
      l.fail("a", t0 + i);
    }
    expect(l.retryAfter("a", 20, t0 + 20)).toBe(60);
    expect(l.retryAfter("a", 20, t0 + 30_500)).toBe(30);
    expect(l.retryAfter("a", 20, t0 + WINDOW_MS - 1)).toBe(1);
    expect(l.retryAfter("a", 20, t0 + WINDOW_MS)).toBe(0);
    // Another client is not affected.
    expect(l.retryAfter("b", 20, t0 + 20)).toBe(0);
  });

  it("a new window starts fresh", () => {
    const l = new FailureLimiter();
    for (let i = 0; i < 25; i++) l.fail("a", 0);
    expect(l.retryAfter("a", 20, 1)).toBeGreaterThan(0);
    l.fail("a", WINDOW_MS + 5);
    expect(l.retryAfter("a", 20, WINDOW_MS + 6)).toBe(0);
  });

  it("keeps memory bounded: expired windows first, then the oldest", () => {
    const l = new FailureLimiter(WINDOW_MS, 3);
    l.fail("old", 0);
    l.fail("x", WINDOW_MS);
    l.fail("y", WINDOW_MS);
    l.fail("z", WINDOW_MS + 1); // "old" has expired: it goes
    expect(l.size).toBe(3);
    for (let i = 0; i < 5; i++) l.fail("w", WINDOW_MS + 2); // full of live windows: the oldest ("x") goes
    expect(l.size).toBe(3);
    expect(l.retryAfter("w", 5, WINDOW_MS + 3)).toBeGreaterThan(0);
  });
});

describe("clientOf", () => {
  it("is cf-connecting-ip, an IPv6 address counted by its /64, or one shared bucket", () => {
    expect(clientOf(new Headers({ "cf-connecting-ip": "203.0.113.7" }))).toBe("203.0.113.7");
    expect(clientOf(new Headers({ "cf-connecting-ip": "2001:db8:1:2:aaaa::1" }))).toBe("2001:db8:1:2::/64");
    expect(clientOf(new Headers({ "cf-connecting-ip": "2001:DB8:1:2:bbbb:cccc:dddd:eeee" }))).toBe("2001:db8:1:2::/64");
    expect(clientOf(new Headers())).toBe(UNKNOWN_CLIENT);
    expect(clientOf(new Headers({ "cf-connecting-ip": "  " }))).toBe(UNKNOWN_CLIENT);
  });
});
