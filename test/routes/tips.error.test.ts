/**
 * Tips refused: bad input (400 problem+json), an unknown service (404), a frozen key or account
 * (403), another currency (409), not enough money (402) and the wrong credentials. Each leaves the
 * balance, the journal, the mandates and D1 as they were.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, createService, payer } from "./helpers";
import { exportNow } from "./ledger-helpers";
import { moneyState, tip, type TipWorld, tipWorld } from "./tip-helpers";

let w: TipWorld;
beforeAll(async () => {
  w = await tipWorld(10_000);
  await exportNow(w.p.accountId);
});

/** The tip is refused with `status` and `code`, as a problem document, and nothing changes. */
async function refusedAlike(key: string, body: unknown, status: number, code: string, world = w) {
  const before = await moneyState(world);
  const r = await tip(key, body);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.contentType).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ code, status });
  expect(await moneyState(world)).toEqual(before);
  return r.body;
}

describe("POST /v1/tips: bad input is a 400 that changes nothing", () => {
  const cases: [string, (w: TipWorld) => unknown][] = [
    ["a negative amount", (w) => ({ service_id: w.svc.id, amount: -1 })],
    ["a zero amount", (w) => ({ service_id: w.svc.id, amount: 0 })],
    ["a fractional amount", (w) => ({ service_id: w.svc.id, amount: 1.5 })],
    ["an amount as a string", (w) => ({ service_id: w.svc.id, amount: "100" })],
    ["an amount past 2^53", (w) => ({ service_id: w.svc.id, amount: 2 ** 53 })],
    ["no amount", (w) => ({ service_id: w.svc.id })],
    ["no service", () => ({ amount: 1 })],
    ["an unknown field", (w) => ({ service_id: w.svc.id, amount: 1, currency: "USD" })],
    ["a message too long", (w) => ({ service_id: w.svc.id, amount: 1, message: "x".repeat(281) })],
    ["an empty message", (w) => ({ service_id: w.svc.id, amount: 1, message: "" })],
    ["not an object", () => [1]],
  ];
  for (const [what, body] of cases) {
    it(`${what} → 400 invalid_request`, async () => {
      await refusedAlike(w.p.agentKey, body(w), 400, "invalid_request");
    });
  }

  it("an unknown service → 404 not_found", async () => {
    await refusedAlike(w.p.agentKey, { service_id: "svc_00000000000000000000", amount: 1 }, 404, "not_found");
  });
});

describe("POST /v1/tips: refusals that change nothing", () => {
  it("more than the balance → 402 insufficient_funds with price, available and currency, as a call's", async () => {
    const available = (await api(`/v1/accounts/${w.p.accountId}/balance`, { key: OPERATOR })).body.available;
    const body = await refusedAlike(w.p.agentKey, { service_id: w.svc.id, amount: available + 1 }, 402, "insufficient_funds");
    expect(body).toMatchObject({ price: available + 1, available, currency: "USD" });
  });

  it("a frozen key → 403 key_frozen; a frozen account → 403 account_frozen (agent and owner alike)", async () => {
    const p = await payer(10_000);
    const world = { ...w, p };
    const keyFrozen = await api(`/v1/accounts/${p.accountId}/agent-keys/${p.agentKeyId}/frozen`, { method: "PUT", key: OPERATOR, body: { frozen: true } });
    expect(keyFrozen.status).toBe(200);
    await refusedAlike(p.agentKey, { service_id: w.svc.id, amount: 1 }, 403, "key_frozen", world);
    const accountFrozen = await api(`/v1/accounts/${p.accountId}/frozen`, { method: "PUT", key: OPERATOR, body: { frozen: true } });
    expect(accountFrozen.status).toBe(200);
    await refusedAlike(p.ownerKey, { service_id: w.svc.id, amount: 1 }, 403, "account_frozen", world);
    await refusedAlike(p.agentKey, { service_id: w.svc.id, amount: 1 }, 403, "account_frozen", world);
  });

  it("a service in another currency → 409 currency_mismatch naming both", async () => {
    const eur = await createService(w.prov.key, { currency: "EUR", prices: [{ per_call: 1 }] });
    const body = await refusedAlike(w.p.agentKey, { service_id: eur.id, amount: 1 }, 409, "currency_mismatch");
    expect(body).toMatchObject({ account_currency: "USD", service_currency: "EUR" });
  });

  it("a revoked agent key → 401 invalid_key", async () => {
    const p = await payer(10_000);
    const revoked = await api(`/v1/accounts/${p.accountId}/agent-keys/${p.agentKeyId}`, { method: "DELETE", key: p.ownerKey });
    expect(revoked.status).toBe(200);
    await refusedAlike(p.agentKey, { service_id: w.svc.id, amount: 1 }, 401, "invalid_key", { ...w, p });
  });

  it("a provider or the operator → 403 forbidden (tips come from an account)", async () => {
    await refusedAlike(w.prov.key, { service_id: w.svc.id, amount: 1 }, 403, "forbidden");
    await refusedAlike(OPERATOR, { service_id: w.svc.id, amount: 1 }, 403, "forbidden");
  });
});
