import { describe, expect, it } from "vitest";
import { ApiError } from "../../worker/errors";
import { invoiceNumber } from "../../worker/reports/invoice";
import { escapeHtml, formatMicro } from "../../worker/reports/invoice-html";
import { FINAL_AFTER_MS, isFinal, MONTH, monthPeriod } from "../../worker/reports/period";
import { currencyStatement } from "../../worker/reports/statement";

describe("monthPeriod", () => {
  it("is the UTC month, half-open: its first millisecond to the next month's", () => {
    expect(monthPeriod("2026-03")).toEqual({ from: Date.UTC(2026, 2, 1), to: Date.UTC(2026, 3, 1) });
    expect(monthPeriod("2026-12")).toEqual({ from: Date.UTC(2026, 11, 1), to: Date.UTC(2027, 0, 1) });
    expect(monthPeriod("2024-02").to - monthPeriod("2024-02").from).toBe(29 * 86_400_000); // a leap February
  });

  it("takes years 0000–0099 as written (Date.UTC would read them as 1900–1999)", () => {
    expect(new Date(monthPeriod("0099-01").from).getUTCFullYear()).toBe(99);
  });

  it("refuses anything but YYYY-MM with a month 01–12", () => {
    for (const bad of ["2026-13", "2026-1", "abcd", "2026-00", "2026-03-01", " 2026-03", "2026-03 ", "+02026-03", "2026/03"]) {
      expect(MONTH.test(bad), bad).toBe(false);
      expect(() => monthPeriod(bad)).toThrow(ApiError);
    }
  });

  it("is final once the month ended FINAL_AFTER_MS ago", () => {
    const p = monthPeriod("2026-03");
    expect(isFinal(p, p.to + FINAL_AFTER_MS - 1)).toBe(false);
    expect(isFinal(p, p.to + FINAL_AFTER_MS)).toBe(true);
  });
});

describe("invoiceNumber", () => {
  it("is TG-YYYYMM-<account id tail, upper-cased>: one per account and month", () => {
    expect(invoiceNumber("acct_3k9x0c1v8b7n6m5l4k3j", "2026-03")).toBe("TG-202603-3K9X0C1V8B7N6M5L4K3J");
    expect(invoiceNumber("acct_3k9x0c1v8b7n6m5l4k3j", "2026-04")).not.toBe(invoiceNumber("acct_3k9x0c1v8b7n6m5l4k3j", "2026-03"));
    expect(invoiceNumber("acct_3k9x0c1v8b7n6m5l4k3k", "2026-03")).not.toBe(invoiceNumber("acct_3k9x0c1v8b7n6m5l4k3j", "2026-03"));
  });
});

describe("HTML helpers", () => {
  it("escapes the five characters that matter in text and attributes", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(escapeHtml(null)).toBe("");
  });

  it("formats micro-units exactly, with six decimals", () => {
    expect(formatMicro(0)).toBe("0.000000");
    expect(formatMicro(7)).toBe("0.000007");
    expect(formatMicro(1_234_567)).toBe("1.234567");
    expect(formatMicro(-2_500_000)).toBe("−2.500000");
    expect(formatMicro(Number.MAX_SAFE_INTEGER)).toBe("9007199254.740991");
  });
});

describe("currencyStatement", () => {
  const moves = { capture: 900n, refund: -360n, dispute: 0n, tip: 0n, payout: -500n, other: 0n };
  const service = { service_id: "svc_a", name: "A", calls: 1, passes_sold: 0, units: 0n, gross: 1_000n, fees: 100n };

  it("gives the figures when opening + movements = closing", () => {
    expect(currencyStatement("prov_x", "2026-03", "USD", { opening: 100n, closing: 140n, services: [service], moves })).toMatchObject({
      opening_balance: 100,
      services: [{ net: 900 }],
      refunds: -360,
      payouts: -500,
      closing_balance: 140,
    });
  });

  it("counts tips among the movements: opening + net + refunds + disputes + tips + payouts = closing", () => {
    const withTips = { ...moves, tip: 95n };
    expect(currencyStatement("prov_x", "2026-03", "USD", { opening: 100n, closing: 235n, services: [service], moves: withTips })).toMatchObject({
      tips: 95,
      closing_balance: 235,
    });
    expect(() => currencyStatement("prov_x", "2026-03", "USD", { opening: 100n, closing: 140n, services: [service], moves: withTips })).toThrow(
      /movements 135/,
    );
  });

  it("refuses (500) a statement off by one micro-unit, legs of unknown origin, or services that disagree with their legs", () => {
    const off = () => currencyStatement("prov_x", "2026-03", "USD", { opening: 100n, closing: 141n, services: [service], moves });
    expect(off).toThrow(/opening 100 \+ movements 40 = 140, but the closing balance is 141/);
    const other = () => currencyStatement("prov_x", "2026-03", "USD", { opening: 100n, closing: 141n, services: [service], moves: { ...moves, other: 1n } });
    expect(other).toThrow(/legs of unknown origin sum to 1/);
    const services = () => currencyStatement("prov_x", "2026-03", "USD", { opening: 100n, closing: 140n, services: [{ ...service, fees: 99n }], moves });
    expect(services).toThrow(/services' net is 901 but the provider's capture legs sum to 900/);
    try {
      off();
    } catch (err) {
      expect((err as ApiError).status).toBe(500);
    }
  });
});
