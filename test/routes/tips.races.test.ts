/**
 * Racing tips: the checks and the money are one ledger transaction, so concurrent tips see each
 * other. 100 tips against a balance that covers 10 give exactly 10; against a mandate's cap, as
 * many as the cap allows; with one Idempotency-Key, one.
 */
import { describe, expect, it } from "vitest";
import { api, boundKey, payer, postMandate } from "./helpers";
import { DB, exportNow } from "./ledger-helpers";
import { tip, tipWorld } from "./tip-helpers";

const TIP = 1_000;

function race(key: string, serviceId: string, n: number, headers: Record<string, string> = {}) {
  return Promise.all(Array.from({ length: n }, () => tip(key, { service_id: serviceId, amount: TIP }, headers)));
}

const statuses = (rs: { status: number }[]) => rs.map((r) => r.status).sort();

describe("100 racing tips", () => {
  it("against a balance that covers 10: exactly 10 are given, 90 are 402, the balance ends at 0 and D1 has 10 tips", async () => {
    const w = await tipWorld(10 * TIP);
    const rs = await race(w.p.agentKey, w.svc.id, 100);
    expect(statuses(rs)).toEqual([...Array(10).fill(201), ...Array(90).fill(402)]);
    expect(new Set(rs.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(10);
    const b = await api(`/v1/accounts/${w.p.accountId}/balance`, { key: w.p.ownerKey });
    expect(b.body).toMatchObject({ posted: 0, pending: 0, available: 0 });
    await exportNow(w.p.accountId);
    const d1 = await DB.prepare("SELECT COUNT(*) AS n, SUM(amount) AS s FROM transfers WHERE account_id = ? AND kind = 'tip'").bind(w.p.accountId).first();
    expect(d1).toEqual({ n: 10, s: 10 * TIP });
    const legs = await DB.prepare("SELECT SUM(amount) AS s FROM ledger_entries WHERE ledger_account = ?").bind(w.prov.id).first();
    expect(legs).toEqual({ s: 10 * TIP });
  });

  it("under a mandate whose total covers 10 (with money for 100): exactly 10 are given, 90 are 403 mandate_exceeded", async () => {
    const w = await tipWorld(100 * TIP);
    const mandate = await postMandate(w.p.accountId, w.p.ownerKey, {
      intent: "racing tips",
      max_total: 10 * TIP,
      max_per_call: TIP,
      valid_until: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const key = (await boundKey(w.p.accountId, w.p.ownerKey, mandate.id)).key;
    const rs = await race(key, w.svc.id, 100);
    expect(statuses(rs)).toEqual([...Array(10).fill(201), ...Array(90).fill(403)]);
    expect(rs.filter((r) => r.status === 403).every((r) => r.body.code === "mandate_exceeded")).toBe(true);
    const read = await api(`/v1/accounts/${w.p.accountId}/mandates/${mandate.id}`, { key: w.p.ownerKey });
    expect(read.body).toMatchObject({ spent: 10 * TIP, pending: 0 });
    const b = await api(`/v1/accounts/${w.p.accountId}/balance`, { key: w.p.ownerKey });
    expect(b.body.posted).toBe(90 * TIP);
  });

  it("with one Idempotency-Key: one tip is given, every answer is that tip", async () => {
    const w = await tipWorld(100 * TIP);
    const rs = await race(w.p.agentKey, w.svc.id, 50, { "idempotency-key": "race-1" });
    expect(rs.every((r) => r.status === 201)).toBe(true);
    expect(new Set(rs.map((r) => r.body.id)).size).toBe(1);
    const b = await api(`/v1/accounts/${w.p.accountId}/balance`, { key: w.p.ownerKey });
    expect(b.body.posted).toBe(99 * TIP);
  });

  it("from the owner and an agent of one account at once: never past the balance", async () => {
    const p = await payer(15 * TIP);
    const w = { ...(await tipWorld(0)), p };
    const rs = await Promise.all([race(p.agentKey, w.svc.id, 20), race(p.ownerKey, w.svc.id, 20)]);
    expect(rs.flat().filter((r) => r.status === 201)).toHaveLength(15);
    const b = await api(`/v1/accounts/${p.accountId}/balance`, { key: p.ownerKey });
    expect(b.body).toMatchObject({ posted: 0, available: 0 });
  });
});
