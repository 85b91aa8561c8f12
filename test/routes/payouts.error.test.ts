/**
 * Payouts refused: bad input, unknown providers and the wrong callers get problem+json and change
 * nothing (no payout row, no leg, the same balance).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, call, callWithEnv, expectProblem, payer } from "./helpers";
import { EARNED_PER_CALL, earn, earningProvider, NOW, payoutState, providerBalance } from "./payout-helpers";
import type { RefundWorld } from "./refund-helpers";

let w: RefundWorld;
let other: RefundWorld;
let owner: { ownerKey: string; agentKey: string };
beforeAll(async () => {
  [w, other] = await Promise.all([earningProvider(), earningProvider()]);
  await earn(w, 2);
  owner = await payer(0);
});

/** POST with no payout delay (so the provider has money: a refusal is the input's, never the balance's). */
async function post(providerId: string, key: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const { response, finished } = callWithEnv(NOW, `/v1/providers/${providerId}/payouts`, { method: "POST", key, body, headers });
  const res = await response;
  await finished();
  return res;
}

/** Runs `refused` and checks that the provider's payouts, legs and balance are as they were. */
async function changesNothing(refused: () => Promise<void>): Promise<void> {
  const before = { state: await payoutState(w.prov.id), balance: await providerBalance(w.prov.id) };
  await refused();
  expect({ state: await payoutState(w.prov.id), balance: await providerBalance(w.prov.id) }).toEqual(before);
}

describe("POST /v1/providers/{id}/payouts refuses bad input with 400 and changes nothing", () => {
  const bad: [string, unknown][] = [
    ["a negative amount", { amount: -1, currency: "USD" }],
    ["a zero amount", { amount: 0, currency: "USD" }],
    ["a fractional amount", { amount: 1.5, currency: "USD" }],
    ["a string amount", { amount: "5", currency: "USD" }],
    ["an amount of 2^53", { amount: 2 ** 53, currency: "USD" }],
    ["a null amount", { amount: null, currency: "USD" }],
    ["no amount", { currency: "USD" }],
    ["no currency", { amount: 1 }],
    ["a lower-case currency", { amount: 1, currency: "usd" }],
    ["a two-letter currency", { amount: 1, currency: "US" }],
    ["a number as currency", { amount: 1, currency: 840 }],
    ["an unknown field", { amount: 1, currency: "USD", provider_id: "prov_x" }],
    ["an empty reference", { amount: 1, currency: "USD", reference: "" }],
    ["a reference of 201 characters", { amount: 1, currency: "USD", reference: "r".repeat(201) }],
    ["an array", [{ amount: 1, currency: "USD" }]],
    ["text that is not JSON", "{amount: 1"],
  ];
  for (const [what, body] of bad) {
    it(`${what} → 400 invalid_request`, async () => {
      await changesNothing(async () => {
        await expectProblem(await post(w.prov.id, OPERATOR, body), 400, "invalid_request");
      });
    });
  }

  it("an Idempotency-Key over 255 characters → 400", async () => {
    await changesNothing(async () => {
      await expectProblem(await post(w.prov.id, OPERATOR, { amount: 1, currency: "USD" }, { "idempotency-key": "k".repeat(256) }), 400, "invalid_request");
    });
  });

  it("more than is available → 422 insufficient_provider_funds with `available`", async () => {
    await changesNothing(async () => {
      const body = await expectProblem(
        await post(w.prov.id, OPERATOR, { amount: 2 * EARNED_PER_CALL + 1, currency: "USD" }),
        422,
        "insufficient_provider_funds",
      );
      expect(body).toMatchObject({ available: 2 * EARNED_PER_CALL, currency: "USD" });
    });
  });
});

describe("who may pay out and read", () => {
  it("an unknown provider → 404 for the operator, and nothing is written", async () => {
    const ghost = "prov_aaaaaaaaaaaaaaaaaaaa";
    await expectProblem(await post(ghost, OPERATOR, { amount: 1, currency: "USD" }), 404, "not_found");
    await expectProblem(await call(`/v1/providers/${ghost}/balance`, { key: OPERATOR }), 404, "not_found");
    await expectProblem(await call(`/v1/providers/${ghost}/payouts`, { key: OPERATOR }), 404, "not_found");
    expect(await payoutState(ghost)).toEqual({ payouts: [], legs: [] });
  });

  it("a provider paying itself or another provider out → 403, nothing changes", async () => {
    await changesNothing(async () => {
      await expectProblem(await post(w.prov.id, w.prov.key, { amount: 1, currency: "USD" }), 403, "forbidden");
      await expectProblem(await post(w.prov.id, other.prov.key, { amount: 1, currency: "USD" }), 403, "forbidden");
      await expectProblem(await post(w.prov.id, owner.ownerKey, { amount: 1, currency: "USD" }), 403, "forbidden");
      await expectProblem(await post(w.prov.id, owner.agentKey, { amount: 1, currency: "USD" }), 403, "forbidden");
    });
  });

  it("another provider, an owner or an agent reading a provider's balance or payouts → 404, as if it did not exist", async () => {
    for (const key of [other.prov.key, owner.ownerKey, owner.agentKey]) {
      await expectProblem(await call(`/v1/providers/${w.prov.id}/balance`, { key }), 404, "not_found");
      await expectProblem(await call(`/v1/providers/${w.prov.id}/payouts`, { key }), 404, "not_found");
    }
  });
});
