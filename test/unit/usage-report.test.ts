import { describe, expect, it } from "vitest";
import { ApiError } from "../../worker/errors";
import { DEFAULT_PERIOD_DAYS, resolvePeriod } from "../../worker/reports/period";
import { GROUP_BY, summarize, usageQuery } from "../../worker/reports/usage-report";

const period = { from: Date.UTC(2026, 5, 1), to: Date.UTC(2026, 6, 1) };

describe("GROUP_BY", () => {
  it("accepts service, day and tag:<tag name>", () => {
    for (const g of ["service", "day", "tag:team", "tag:cost.center", "tag:a-b_c", `tag:a${"x".repeat(31)}`]) expect(GROUP_BY.test(g)).toBe(true);
  });

  it("refuses anything that could reach SQL or a JSON path", () => {
    for (const g of [
      "",
      "Service",
      "tag:",
      "tag:Team",
      "tag:1x",
      `tag:a${"x".repeat(32)}`,
      'tag:a"',
      "tag:a')--",
      "tag:a b",
      "tag:a[0]",
      "day;DROP",
      "service\n",
    ]) {
      expect(GROUP_BY.test(g), g).toBe(false);
    }
  });
});

describe("usageQuery", () => {
  it("binds the tag as a quoted JSON path and splices nothing from the request", () => {
    const q = usageQuery({ accountId: "acct_1" }, period, "tag:cost.center");
    expect(q.params).toEqual(["acct_1", period.from, period.to, '$."cost.center"']);
    expect(q.sql).toContain("json_extract(tags, ?4)");
    expect(q.sql).not.toContain("cost.center");
    expect(q.sql).toContain("account_id = ?1");
  });

  it("scopes a service report by service_id and groups days in UTC", () => {
    const q = usageQuery({ serviceId: "svc_1" }, period, "day");
    expect(q.sql).toContain("service_id = ?1");
    expect(q.sql).toContain("strftime('%Y-%m-%d'");
    expect(q.params).toEqual(["svc_1", period.from, period.to]);
  });

  it("throws on a tag name the route should have refused", () => {
    expect(() => usageQuery({ accountId: "a" }, period, 'tag:x"' as "tag:x")).toThrow();
  });
});

describe("summarize", () => {
  it("one currency: named at the top, one total", () => {
    const r = summarize(
      [
        { currency: "USD", key: "svc_a", calls: 2, amount: 300n, fee: 30n },
        { currency: "USD", key: "svc_b", calls: 1, amount: 50n, fee: 0n },
      ],
      period,
      "service",
    );
    expect(r).toMatchObject({ currency: "USD", from: "2026-06-01T00:00:00.000Z", to: "2026-07-01T00:00:00.000Z", group_by: "service" });
    expect(r.total).toEqual({ calls: 3, amount: 350, fee: 30 });
  });

  it("several currencies: no top currency, no total, one total per currency", () => {
    const r = summarize(
      [
        { currency: "EUR", key: "x", calls: 1, amount: 10n, fee: 1n },
        { currency: "USD", key: "x", calls: 2, amount: 20n, fee: 2n },
      ],
      period,
      "tag:team",
    );
    expect(r.currency).toBeUndefined();
    expect(r.total).toBeNull();
    expect(r.totals).toEqual([
      { currency: "EUR", calls: 1, amount: 10, fee: 1 },
      { currency: "USD", calls: 2, amount: 20, fee: 2 },
    ]);
  });

  it("sums exactly and refuses a total past 2^53 − 1 rather than rounding it", () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    const row = (key: string, amount: bigint) => ({ currency: "USD", key, calls: 1, amount, fee: 0n });
    expect(summarize([row("a", max - 1n), row("b", 1n)], period, "service").total).toEqual({ calls: 2, amount: Number.MAX_SAFE_INTEGER, fee: 0 });
    expect(() => summarize([row("a", max), row("b", 2n)], period, "service")).toThrow(/USD total is 9007199254740993/);
    expect(() => summarize([row("a", max + 1n)], period, "service")).toThrow(expect.objectContaining({ code: "amount_out_of_range" }));
  });

  it("nothing charged: zero total in the account's currency", () => {
    expect(summarize([], period, "day", "EUR")).toMatchObject({ currency: "EUR", groups: [], total: { calls: 0, amount: 0, fee: 0 }, totals: [] });
  });
});

describe("resolvePeriod", () => {
  const now = Date.UTC(2026, 6, 15);
  it("defaults to the last 30 days, to exclusive", () => {
    expect(resolvePeriod(undefined, undefined, now)).toEqual({ from: now - DEFAULT_PERIOD_DAYS * 86_400_000, to: now });
  });

  it("reads dates as UTC midnight and timestamps with offsets", () => {
    expect(resolvePeriod("2026-06-01", "2026-06-02T02:00:00+02:00", now)).toEqual({ from: Date.UTC(2026, 5, 1), to: Date.UTC(2026, 5, 2) });
  });

  it("refuses an empty or inverted range", () => {
    expect(() => resolvePeriod("2026-06-02", "2026-06-02")).toThrow(ApiError);
    expect(() => resolvePeriod("2026-06-03", "2026-06-02")).toThrow(/before to/);
  });
});
