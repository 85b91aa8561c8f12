/**
 * Tips under the key's mandate (docs/SPENDING-CONTROLS.md): its service list and validity window,
 * `max_tip` (null: tips within the other limits; 0: none; n: at most n each), and the per-call,
 * total and daily caps, which a tip counts against like any spend. A refusal changes nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { api, boundKey, postMandate } from "./helpers";
import { moneyState, tip, type TipWorld, tipWorld } from "./tip-helpers";

let w: TipWorld;
beforeAll(async () => {
  w = await tipWorld(1_000_000);
});

const hourFromNow = () => new Date(Date.now() + 3_600_000).toISOString();

/** An agent key of the payer bound to a new mandate with these terms (besides intent and valid_until). */
async function keyUnder(terms: Record<string, unknown>) {
  const mandate = await postMandate(w.p.accountId, w.p.ownerKey, { intent: "tips test", valid_until: hourFromNow(), ...terms });
  return { mandate, key: (await boundKey(w.p.accountId, w.p.ownerKey, mandate.id)).key };
}

async function refused(key: string, amount: number, code: string, mandateId: string) {
  const before = await moneyState(w);
  const r = await tip(key, { service_id: w.svc.id, amount });
  expect(r.status, JSON.stringify(r.body)).toBe(403);
  expect(r.body).toMatchObject({ code, mandate_id: mandateId });
  expect(await moneyState(w)).toEqual(before);
}

describe("POST /v1/tips under a mandate", () => {
  it("max_tip is set at creation and shown on the mandate (absent: null)", async () => {
    const { mandate } = await keyUnder({ max_total: 10_000, max_per_call: 1_000, max_tip: 300 });
    expect(mandate.max_tip).toBe(300);
    const read = await api(`/v1/accounts/${w.p.accountId}/mandates/${mandate.id}`, { key: w.p.ownerKey });
    expect(read.body.max_tip).toBe(300);
    const plain = await keyUnder({ max_total: 10_000, max_per_call: 1_000 });
    expect(plain.mandate.max_tip).toBeNull();
    const bad = await api(`/v1/accounts/${w.p.accountId}/mandates`, {
      key: w.p.ownerKey,
      body: { intent: "x", max_total: 10, max_per_call: 1, valid_until: hourFromNow(), max_tip: -1 },
    });
    expect(bad.status).toBe(400);
  });

  it("a tip within the mandate is spent under it: spent goes up, the journal names the mandate", async () => {
    const { mandate, key } = await keyUnder({ max_total: 10_000, max_per_call: 1_000, max_tip: 500 });
    const r = await tip(key, { service_id: w.svc.id, amount: 500 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const read = await api(`/v1/accounts/${w.p.accountId}/mandates/${mandate.id}`, { key: w.p.ownerKey });
    expect(read.body).toMatchObject({ spent: 500, pending: 0 });
    const journal = await api(`/v1/accounts/${w.p.accountId}/transfers?limit=1`, { key: w.p.ownerKey });
    expect(journal.body.data[0]).toMatchObject({ id: r.body.id, mandate_id: mandate.id });
  });

  it("max_tip 0 → 403 mandate_tip_not_allowed", async () => {
    const { mandate, key } = await keyUnder({ max_total: 10_000, max_per_call: 1_000, max_tip: 0 });
    await refused(key, 1, "mandate_tip_not_allowed", mandate.id);
  });

  it("a tip above max_tip → 403 mandate_tip_exceeded; at max_tip it is given", async () => {
    const { mandate, key } = await keyUnder({ max_total: 10_000, max_per_call: 1_000, max_tip: 200 });
    await refused(key, 201, "mandate_tip_exceeded", mandate.id);
    expect((await tip(key, { service_id: w.svc.id, amount: 200 })).status).toBe(201);
  });

  it("a service outside the mandate's list → 403 mandate_service_not_allowed", async () => {
    const { mandate, key } = await keyUnder({ max_total: 10_000, max_per_call: 1_000, services: ["some-other-service"] });
    await refused(key, 1, "mandate_service_not_allowed", mandate.id);
  });

  it("max_tip null: a tip is bounded by max_per_call, then by the total and daily caps", async () => {
    const { mandate, key } = await keyUnder({ max_total: 1_000, max_per_call: 600, max_per_day: 900 });
    await refused(key, 601, "mandate_per_call_exceeded", mandate.id);
    expect((await tip(key, { service_id: w.svc.id, amount: 600 })).status).toBe(201);
    await refused(key, 301, "mandate_exceeded", mandate.id); // the day's cap: 600 + 301 > 900
    expect((await tip(key, { service_id: w.svc.id, amount: 300 })).status).toBe(201);
    const total = await keyUnder({ max_total: 1_000, max_per_call: 1_000 });
    expect((await tip(total.key, { service_id: w.svc.id, amount: 1_000 })).status).toBe(201);
    await refused(total.key, 1, "mandate_exceeded", total.mandate.id);
  });

  it("a mandate not yet valid → 403 mandate_not_started; a revoked one → 403 mandate_revoked", async () => {
    const later = await keyUnder({ max_total: 1_000, max_per_call: 1_000, valid_from: new Date(Date.now() + 600_000).toISOString() });
    await refused(later.key, 1, "mandate_not_started", later.mandate.id);
    const { mandate, key } = await keyUnder({ max_total: 1_000, max_per_call: 1_000 });
    const revoked = await api(`/v1/accounts/${w.p.accountId}/mandates/${mandate.id}`, { method: "DELETE", key: w.p.ownerKey });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    await refused(key, 1, "mandate_revoked", mandate.id);
  });
});
