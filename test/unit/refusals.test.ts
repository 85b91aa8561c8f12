import { describe, expect, it } from "vitest";
import { creditRefusal, type ReserveRefusal, reserveRefusal, usageRefusal } from "../../worker/account-client/refusals";
import type { ApiError } from "../../worker/errors";

/** What an agent or caller sees of an ApiError: status, code, detail, extra members, headers. */
const seen = (e: ApiError) => ({ status: e.status, code: e.code, detail: e.message, extra: e.extra, headers: e.headers });

describe("reserveRefusal: a refused reservation as the agent's error", () => {
  it("insufficient_funds → 402 with price, available and currency", () => {
    expect(seen(reserveRefusal({ ok: false, code: "insufficient_funds", price: 500, available: 120, currency: "USD" }))).toEqual({
      status: 402,
      code: "insufficient_funds",
      detail: "This call may cost 500 and 120 is available.",
      extra: { price: 500, available: 120, currency: "USD" },
      headers: {},
    });
  });

  it("currency_mismatch → 409 naming both currencies", () => {
    const e = reserveRefusal({ ok: false, code: "currency_mismatch", account_currency: "JPY", service_currency: "USD" });
    expect(seen(e)).toMatchObject({ status: 409, code: "currency_mismatch", extra: { account_currency: "JPY", service_currency: "USD" } });
    expect(e.message).toBe("This service prices in USD; the account is in JPY.");
  });

  it("rate_limited → 429 with retry_after and a Retry-After header", () => {
    const e = reserveRefusal({ ok: false, code: "rate_limited", retry_after: 7, detail: "The key's limit of 10 calls per minute is used." });
    expect(seen(e)).toEqual({
      status: 429,
      code: "rate_limited",
      detail: "The key's limit of 10 calls per minute is used.",
      extra: { retry_after: 7 },
      headers: { "retry-after": "7" },
    });
  });

  it.each([
    ["invalid_key", 401],
    ["account_frozen", 403],
    ["key_frozen", 403],
    ["idempotency_mismatch", 422],
    ["idempotency_in_flight", 409],
  ] as const)("%s → %i, the code as it stands", (code, status) => {
    const e = reserveRefusal({ ok: false, code } as ReserveRefusal);
    expect(seen(e)).toMatchObject({ status, code, extra: {}, headers: {} });
  });

  it("invalid_amount → 500 internal_error (a price is validated when saved: a gateway bug)", () => {
    expect(seen(reserveRefusal({ ok: false, code: "invalid_amount" }))).toMatchObject({
      status: 500,
      code: "internal_error",
      detail: "The call's price is not a valid amount.",
    });
  });

  it("a mandate refusal → 403 with its code, the ledger's detail and the mandate id", () => {
    const e = reserveRefusal({ ok: false, code: "mandate_exceeded", mandate_id: "mnd_1", detail: "This call would pass the mandate's cap." });
    expect(seen(e)).toEqual({
      status: 403,
      code: "mandate_exceeded",
      detail: "This call would pass the mandate's cap.",
      extra: { mandate_id: "mnd_1" },
      headers: {},
    });
  });
});

describe("usageRefusal: a refused usage report as the provider's error", () => {
  it("hold_not_pending → 409 conflict with the hold's state", () => {
    expect(seen(usageRefusal({ ok: false, code: "hold_not_pending", state: "captured" }))).toMatchObject({
      status: 409,
      code: "conflict",
      detail: "This call's hold is already captured.",
      extra: { state: "captured" },
    });
  });

  it("not_deferred → 409 conflict", () => {
    expect(seen(usageRefusal({ ok: false, code: "not_deferred" }))).toMatchObject({
      status: 409,
      code: "conflict",
      detail: "This call was not priced by deferred usage.",
    });
  });

  it("unknown_request → 404 not_found", () => {
    expect(seen(usageRefusal({ ok: false, code: "unknown_request" }))).toMatchObject({ status: 404, code: "not_found", detail: "No such request." });
  });
});

describe("creditRefusal: a refused credit as the operator's error", () => {
  it("idempotency_mismatch → 422, as for a reserve", () => {
    expect(seen(creditRefusal({ ok: false, code: "idempotency_mismatch" }, "USD"))).toEqual(seen(reserveRefusal({ ok: false, code: "idempotency_mismatch" })));
  });

  it("invalid_amount → 400 invalid_request (the amount is the caller's input)", () => {
    expect(seen(creditRefusal({ ok: false, code: "invalid_amount" }, "USD"))).toMatchObject({
      status: 400,
      code: "invalid_request",
      detail: "amount: a positive integer below 2^53",
    });
  });

  it("amount_out_of_range → 422 naming the account's currency", () => {
    const e = creditRefusal({ ok: false, code: "amount_out_of_range" }, "EUR");
    expect(seen(e)).toMatchObject({ status: 422, code: "amount_out_of_range" });
    expect(e.message).toContain("(EUR micro-units)");
  });

  it("not_found → 404", () => {
    expect(seen(creditRefusal({ ok: false, code: "not_found" }, "USD"))).toMatchObject({ status: 404, code: "not_found", detail: "No such account." });
  });
});
