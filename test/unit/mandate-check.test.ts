import { describe, expect, it } from "vitest";
import { checkMandate, type MandateLimits, type MandateUse, utcDay } from "../../durable-objects/mandate-check";

// I9: a mandate bounds a key by window, services, per-call, total and per-day caps. The check is
// pure; these pin every rule and its boundary (exactly at a cap is allowed, one over is refused).

const T0 = Date.UTC(2026, 5, 15, 12, 0, 0); // 2026-06-15T12:00:00Z
const HOUR = 3_600_000;

const limits = (over: Partial<MandateLimits> = {}): MandateLimits => ({
  valid_from: T0 - HOUR,
  valid_until: T0 + HOUR,
  revoked_at: null,
  max_total: 100,
  max_per_call: 30,
  max_per_day: null,
  services: null,
  ...over,
});
const call = (amount: number, over: Partial<{ now: number; serviceSlug: string }> = {}) => ({ now: T0, serviceSlug: "translate", amount, ...over });
const used = (total = 0, today = 0): MandateUse => ({ total, today });

describe("checkMandate", () => {
  it("allows a call inside every limit", () => {
    expect(checkMandate(limits(), call(10), used())).toBeNull();
  });

  describe("window (valid_from … valid_until, inclusive)", () => {
    it("refuses one millisecond before valid_from, allows exactly at it", () => {
      const m = limits({ valid_from: T0 });
      expect(checkMandate(m, call(1, { now: T0 - 1 }), used())).toBe("mandate_not_started");
      expect(checkMandate(m, call(1, { now: T0 }), used())).toBeNull();
    });

    it("allows exactly at valid_until, refuses one millisecond after", () => {
      const m = limits({ valid_until: T0 });
      expect(checkMandate(m, call(1, { now: T0 }), used())).toBeNull();
      expect(checkMandate(m, call(1, { now: T0 + 1 }), used())).toBe("mandate_expired");
    });

    it("a mandate not started yet says so even when the call is over its caps", () => {
      expect(checkMandate(limits({ valid_from: T0 + 1 }), call(1_000), used(100, 100))).toBe("mandate_not_started");
    });
  });

  describe("revocation", () => {
    it("refuses from the revocation time on (revoked at this very millisecond counts)", () => {
      expect(checkMandate(limits({ revoked_at: T0 }), call(1), used())).toBe("mandate_revoked");
      expect(checkMandate(limits({ revoked_at: T0 - 1 }), call(1), used())).toBe("mandate_revoked");
    });

    it("revocation wins over every other violation", () => {
      const m = limits({ revoked_at: T0 - 1, valid_until: T0 - 1, services: ["other"], max_per_call: 1 });
      expect(checkMandate(m, call(1_000), used(100, 100))).toBe("mandate_revoked");
    });
  });

  describe("services", () => {
    it("null allows any service", () => {
      expect(checkMandate(limits({ services: null }), call(1, { serviceSlug: "anything-at-all" }), used())).toBeNull();
    });

    it("a list allows exactly its slugs", () => {
      const m = limits({ services: ["translate", "search"] });
      expect(checkMandate(m, call(1, { serviceSlug: "translate" }), used())).toBeNull();
      expect(checkMandate(m, call(1, { serviceSlug: "search" }), used())).toBeNull();
      expect(checkMandate(m, call(1, { serviceSlug: "translate-2" }), used())).toBe("mandate_service_not_allowed");
      expect(checkMandate(m, call(1, { serviceSlug: "Translate" }), used())).toBe("mandate_service_not_allowed");
      expect(checkMandate(m, call(1, { serviceSlug: "" }), used())).toBe("mandate_service_not_allowed");
    });
  });

  describe("max_per_call", () => {
    it("exactly max_per_call is allowed, one over is refused", () => {
      expect(checkMandate(limits({ max_per_call: 30 }), call(30), used())).toBeNull();
      expect(checkMandate(limits({ max_per_call: 30 }), call(31), used())).toBe("mandate_per_call_exceeded");
    });
  });

  describe("max_total (posted + pending + this hold ≤ cap)", () => {
    it("reaching the cap exactly is allowed, one over is refused", () => {
      expect(checkMandate(limits({ max_total: 100 }), call(30), used(70))).toBeNull();
      expect(checkMandate(limits({ max_total: 100 }), call(30), used(71))).toBe("mandate_exceeded");
      expect(checkMandate(limits({ max_total: 100 }), call(1), used(100))).toBe("mandate_exceeded");
    });

    it("a zero-price call still fits a full mandate", () => {
      expect(checkMandate(limits({ max_total: 100 }), call(0), used(100))).toBeNull();
    });
  });

  describe("max_per_day (the call's UTC day)", () => {
    it("reaching the daily cap exactly is allowed, one over is refused", () => {
      const m = limits({ max_per_day: 40 });
      expect(checkMandate(m, call(10), used(50, 30))).toBeNull();
      expect(checkMandate(m, call(11), used(50, 30))).toBe("mandate_exceeded");
    });

    it("counts only today's use: yesterday's spend does not block today", () => {
      expect(checkMandate(limits({ max_per_day: 40 }), call(30), used(60, 0))).toBeNull();
    });

    it("null means no daily cap", () => {
      expect(checkMandate(limits({ max_per_day: null }), call(30), used(0, 1_000_000))).toBeNull();
    });

    it("the total cap still applies under a generous daily cap", () => {
      expect(checkMandate(limits({ max_total: 100, max_per_day: 100 }), call(30), used(80, 0))).toBe("mandate_exceeded");
    });
  });
});

describe("utcDay", () => {
  it("is the UTC calendar day, whatever the local zone", () => {
    expect(utcDay(T0)).toBe("2026-06-15");
    expect(utcDay(0)).toBe("1970-01-01");
  });

  it("changes exactly at midnight UTC", () => {
    const midnight = Date.UTC(2026, 0, 1);
    expect(utcDay(midnight - 1)).toBe("2025-12-31");
    expect(utcDay(midnight)).toBe("2026-01-01");
  });

  it("handles a leap day", () => {
    expect(utcDay(Date.UTC(2028, 1, 29, 23, 59, 59, 999))).toBe("2028-02-29");
    expect(utcDay(Date.UTC(2028, 1, 29, 23, 59, 59, 999) + 1)).toBe("2028-03-01");
  });
});
