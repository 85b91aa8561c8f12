/** The provider pages' pure parts: the service form's errors by field, and earnings by day and service. */
import { describe, expect, it } from "vitest";
import { type Charge, earningsByDay, earningsByService, type Service } from "../../worker/dashboard/pages/provider/earnings.ts";
import { apiFieldErrors, parseJsonFields } from "../../worker/dashboard/pages/provider/form-errors.ts";

const refusal = (body: unknown, status = 400) => ({ status, body });

describe("the service form", () => {
  it("puts each of the API's issues beside its field, the rest on the form", () => {
    const errors = apiFieldErrors(
      refusal({
        detail: "…",
        code: "invalid_request",
        errors: [
          { path: "slug", message: "2–63 characters of a-z, 0-9 and -" },
          { path: "prices.0.per_call", message: "Number must be greater than 0" },
          { path: "prices.1", message: "Unrecognized key" },
          { path: "plans.0.duration_s", message: "a plan needs duration_s, calls or both" },
          { path: "", message: "Expected object" },
          { path: "provider_id", message: "not yours" },
        ],
      }),
    );
    expect(errors).toEqual({
      slug: ["2–63 characters of a-z, 0-9 and -"],
      prices: ["0.per_call: Number must be greater than 0", "1: Unrecognized key"],
      plans: ["0.duration_s: a plan needs duration_s, calls or both"],
      _form: ["Expected object", "provider_id: not yours"],
    });
  });

  it("reads a `field: …` detail without an errors list as that field's, anything else as the form's", () => {
    expect(apiFieldErrors(refusal({ detail: "origin: resolves to a private address", code: "invalid_request" }))).toEqual({
      origin: ["resolves to a private address"],
    });
    expect(apiFieldErrors(refusal({ detail: "A service with this slug exists.", code: "conflict" }, 409))).toEqual({
      _form: ["A service with this slug exists."],
    });
    expect(apiFieldErrors(refusal("<html>", 502))).toEqual({ _form: ["The request failed (HTTP 502)."] });
  });

  it("checks only the JSON syntax itself (the rules are the API's) and reads hostnames one per line", () => {
    const ok = parseJsonFields({ prices: '[{"per_call": -1}]', plans: "", hostnames: "a.example.com\n b.example.com ,c.example.com\n" });
    expect(ok.errors).toEqual({});
    expect(ok.values).toEqual({ prices: [{ per_call: -1 }], hostnames: ["a.example.com", "b.example.com", "c.example.com"] });
    const bad = parseJsonFields({ prices: "[{ per_call: 1 }", plans: "{", hostnames: "" });
    expect(Object.keys(bad.errors).sort()).toEqual(["plans", "prices"]);
    expect(bad.errors.prices?.[0]).toMatch(/^not valid JSON/);
  });
});

describe("earnings", () => {
  const now = new Date("2026-12-04T12:00:00Z");
  const charge = (over: Partial<Charge>): Charge => ({
    id: "tr_x",
    account_id: "acct_x",
    kind: "capture",
    amount: 1_000_000,
    fee: 50_000,
    currency: "USD",
    request_id: null,
    service_id: "svc_a",
    usage: null,
    shortfall: 0,
    created_at: "2026-12-04T10:00:00.000Z",
    ...over,
  });
  const charges = [
    charge({}),
    charge({ created_at: "2026-12-03T23:59:59.999Z", amount: 2_000_000, fee: 0, service_id: "svc_b" }),
    charge({ kind: "refund", amount: -500_000, fee: -25_000 }),
    charge({ currency: "EUR", amount: 7_000_000 }),
    charge({ created_at: "2026-10-01T00:00:00.000Z" }),
  ];

  it("sums charges less fees per UTC day, one bar per day, in one currency, refunds and old days left out", () => {
    const days = earningsByDay(charges, "USD", 30, now);
    expect(days).toHaveLength(30);
    expect(days.at(-1)).toEqual({ label: "12-04", value: 950_000 });
    expect(days.at(-2)).toEqual({ label: "12-03", value: 2_000_000 });
    expect(days.reduce((s, d) => s + d.value, 0)).toBe(2_950_000);
  });

  it("sums per service by name, largest first", () => {
    const services = [
      { id: "svc_a", name: "Alpha" },
      { id: "svc_b", name: "Beta" },
    ] as Service[];
    expect(earningsByService(charges, services, "USD")).toEqual([
      { label: "Beta", value: 2_000_000 },
      { label: "Alpha", value: 1_900_000 },
    ]);
  });
});
