import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/audit-chain";
import { api, balance, boundKey, call, createAccount, createProvider, createService, credit, OPERATOR, payer, postMandate, transfers } from "./helpers";

// Mandates over HTTP: the owner (or the operator) records the user's spending authority, binds
// agent keys to it and revokes it; proxied calls under it are charged and counted against it.

const HOUR = 3_600_000;
const INTENT = "Research flights to Lisbon; spend at most 50 dollars";
const iso = (ms: number) => new Date(ms).toISOString();

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const createMandate = (accountId: string, key: string, body: Record<string, unknown> = {}) =>
  postMandate(accountId, key, { intent: INTENT, max_total: 1_000, max_per_call: 100, valid_until: iso(Date.now() + HOUR), ...body });

describe("create, read, list, revoke", () => {
  it("the owner creates a mandate: 201 with its terms, intent hash and zero counters", async () => {
    const a = await createAccount();
    const from = Date.now() + 60_000;
    const until = Date.now() + 2 * HOUR;
    const body = {
      intent: INTENT,
      max_total: 5_000,
      max_per_call: 500,
      max_per_day: 2_000,
      valid_from: iso(from),
      valid_until: iso(until),
      services: ["flights", "hotels-search"],
      tags: { team: "travel", project: "lisbon-2026" },
    };
    const r = await api(`/v1/accounts/${a.id}/mandates`, { key: a.ownerKey, body });
    expect(r.status).toBe(201);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^mnd_[0-9a-z]{20}$/),
      intent: INTENT,
      intent_hash: sha256Hex(INTENT),
      max_total: 5_000,
      max_per_call: 500,
      max_per_day: 2_000,
      valid_from: iso(from),
      valid_until: iso(until),
      services: ["flights", "hotels-search"],
      tags: { team: "travel", project: "lisbon-2026" },
      created_at: expect.any(String),
      revoked_at: null,
      spent: 0,
      pending: 0,
      max_tip: null,
    });
    const one = await api(`/v1/accounts/${a.id}/mandates/${r.body.id}`, { key: a.ownerKey });
    expect(one).toMatchObject({ status: 200, body: r.body });
    const list = await api(`/v1/accounts/${a.id}/mandates`, { key: a.ownerKey });
    expect(list).toMatchObject({ status: 200, body: { data: [r.body], next_cursor: null } });
  });

  it("optional terms default: valid_from now, no daily cap, any service, no tags", async () => {
    const a = await createAccount();
    const before = Date.now();
    const m = await api(`/v1/accounts/${a.id}/mandates`, {
      key: a.ownerKey,
      body: { intent: "x", max_total: 1, max_per_call: 1, valid_until: iso(Date.now() + HOUR) },
    });
    expect(m.status).toBe(201);
    expect(m.body).toMatchObject({ max_per_day: null, services: null, tags: null, revoked_at: null });
    const from = Date.parse(m.body.valid_from);
    expect(from).toBeGreaterThanOrEqual(before);
    expect(from).toBeLessThanOrEqual(Date.now());
  });

  it("max_per_call equal to max_total, and valid_until with an offset, are accepted", async () => {
    const a = await createAccount();
    const until = Date.now() + HOUR;
    const offset = new Date(until + 2 * HOUR).toISOString().replace("Z", "+02:00");
    const m = await createMandate(a.id, a.ownerKey, { max_total: 7, max_per_call: 7, max_per_day: 7, valid_until: offset });
    expect(m).toMatchObject({ max_total: 7, max_per_call: 7, max_per_day: 7 });
    expect(Date.parse(m.valid_until)).toBe(Date.parse(offset));
  });

  it("the operator can create, list, read and revoke too", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, OPERATOR);
    expect((await api(`/v1/accounts/${a.id}/mandates`, { key: OPERATOR })).body.data.map((x: any) => x.id)).toEqual([m.id]);
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { key: OPERATOR })).body).toEqual(m);
    const revoked = await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: OPERATOR });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ ...m, revoked_at: expect.any(String) });
  });

  it("DELETE revokes (200, revoked_at set, terms unchanged); a second DELETE keeps the first time", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    const first = await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: a.ownerKey });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ ...m, revoked_at: expect.stringMatching(/^\d{4}-.*Z$/) });
    const second = await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: a.ownerKey });
    expect(second).toMatchObject({ status: 200, body: first.body });
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { key: a.ownerKey })).body).toEqual(first.body);
  });

  it("pages the list with an opaque cursor", async () => {
    const a = await createAccount();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createMandate(a.id, a.ownerKey)).id);
    ids.sort();
    const p1 = await api(`/v1/accounts/${a.id}/mandates?limit=2`, { key: a.ownerKey });
    expect(p1.body.data.map((m: any) => m.id)).toEqual(ids.slice(0, 2));
    expect(typeof p1.body.next_cursor).toBe("string");
    const p2 = await api(`/v1/accounts/${a.id}/mandates?limit=2&cursor=${p1.body.next_cursor}`, { key: a.ownerKey });
    expect(p2.body).toEqual({ data: [expect.objectContaining({ id: ids[2] })], next_cursor: null });
  });
});

describe("agent keys bound to a mandate", () => {
  it("a key is created with mandate_id, and /v1/me shows the mandate", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    const r = await api(`/v1/accounts/${a.id}/agent-keys`, { key: a.ownerKey, body: { name: "bound", mandate_id: m.id } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: "bound", mandate_id: m.id, account_id: a.id, key: expect.any(String) });
    const me = await api("/v1/me", { key: r.body.key });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ account_id: a.id, key: { id: r.body.id, mandate_id: m.id }, mandate: m });
  });
});

describe("proxied calls under a mandate", () => {
  it("are charged, and the mandate's spent follows (pending back to 0)", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 30 }] });
    const a = await createAccount();
    await credit(a.id, 1_000);
    const m = await createMandate(a.id, a.ownerKey, { max_total: 100, max_per_call: 30, services: [svc.slug] });
    const k = await boundKey(a.id, a.ownerKey, m.id);
    for (const expected of ["970", "940", "910"]) {
      const res = await call(`/s/${svc.slug}/echo`, { key: k.key });
      expect(res.status).toBe(200);
      expect(res.headers.get("tollgate-charge")).toBe("30");
      expect(res.headers.get("tollgate-balance")).toBe(expected);
      await res.body?.cancel();
    }
    const after = await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { key: a.ownerKey });
    expect(after.body).toMatchObject({ spent: 90, pending: 0 });
    expect(await balance(a.id)).toEqual({ currency: "USD", posted: 910, pending: 0, available: 910 });
    const captures = (await transfers(a.id)).filter((t) => t.kind === "capture");
    expect(captures).toHaveLength(3);
    for (const t of captures) expect(t).toMatchObject({ amount: 30, mandate_id: m.id, agent_key_id: k.id, service_id: svc.id });
  });

  it("a key without a mandate is bounded only by the balance; its captures name no mandate", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 400 }] });
    const p = await payer(1_000);
    for (let i = 0; i < 2; i++) {
      const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const [last] = await transfers(p.accountId);
    expect(last).toMatchObject({ kind: "capture", amount: 400, mandate_id: null, tags: null });
  });
});

describe("cost-allocation tags", () => {
  it("the per-call header is stored on the capture transfer; the mandate's tags win a conflict", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 5 }] });
    const a = await createAccount();
    await credit(a.id, 100);
    const m = await createMandate(a.id, a.ownerKey, { tags: { team: "growth", cost: "c-7" } });
    const k = await boundKey(a.id, a.ownerKey, m.id);
    const res = await call(`/s/${svc.slug}/echo`, { key: k.key, headers: { "tollgate-tags": "team=hacked,session=s1, region = eu-west" } });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("tollgate-request-id");
    await res.body?.cancel();
    const [capture] = await transfers(a.id);
    expect(capture).toMatchObject({ kind: "capture", amount: 5, request_id: requestId, mandate_id: m.id });
    expect(capture.tags).toEqual({ team: "growth", cost: "c-7", session: "s1", region: "eu-west" });
  });

  it("a key without a mandate gets exactly the call's tags; no header, no tags", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 5 }] });
    const p = await payer(100);
    const tagged = await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { "tollgate-tags": "team=growth,session=s1" } });
    expect(tagged.status).toBe(200);
    await tagged.body?.cancel();
    const plain = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(plain.status).toBe(200);
    await plain.body?.cancel();
    const [second, first] = await transfers(p.accountId);
    expect(first?.tags).toEqual({ team: "growth", session: "s1" });
    expect(second?.tags).toBeNull();
  });

  it("mandate tags alone are stored when the call sends none", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 5 }] });
    const a = await createAccount();
    await credit(a.id, 100);
    const m = await createMandate(a.id, a.ownerKey, { tags: { team: "growth" } });
    const k = await boundKey(a.id, a.ownerKey, m.id);
    const res = await call(`/s/${svc.slug}/echo`, { key: k.key });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const [capture] = await transfers(a.id);
    expect(capture.tags).toEqual({ team: "growth" });
  });
});
