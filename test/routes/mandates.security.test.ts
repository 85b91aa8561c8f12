import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  balance,
  boundKey,
  call,
  createAccount,
  createAgentKey,
  createProvider,
  createService,
  credit,
  expectProblem,
  OPERATOR,
  postMandate,
  transfers,
} from "./helpers";

// Mandates as a security boundary (I9): only the account's owner (or the operator) can see or
// change them; agents cannot widen their own authority; terms cannot be edited; racing calls
// cannot overrun a cap; a revocation stops the next call.

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const MISSING_ACCOUNT = "acct_00000000000000000000";

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const terms = (over: Record<string, unknown> = {}) => ({
  intent: "Pay for search queries",
  max_total: 500,
  max_per_call: 50,
  valid_until: iso(Date.now() + HOUR),
  ...over,
});

const createMandate = (accountId: string, key: string, over: Record<string, unknown> = {}) => postMandate(accountId, key, terms(over));

describe("IDOR: another owner gets the same 404 as for an account that does not exist", () => {
  it("on create, list, read and revoke; A's mandates are untouched", async () => {
    const a = await createAccount();
    const b = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    const attempts: [string, string, unknown?][] = [
      ["POST", "/mandates", terms()],
      ["GET", "/mandates"],
      ["GET", `/mandates/${m.id}`],
      ["DELETE", `/mandates/${m.id}`],
    ];
    for (const [method, suffix, body] of attempts) {
      const theirs = await expectProblem(await call(`/v1/accounts/${a.id}${suffix}`, { method, key: b.ownerKey, body }), 404, "not_found");
      const none = await expectProblem(await call(`/v1/accounts/${MISSING_ACCOUNT}${suffix}`, { method, key: b.ownerKey, body }), 404, "not_found");
      expect(theirs, `${method} ${suffix}`).toEqual(none);
    }
    const list = await api(`/v1/accounts/${a.id}/mandates`, { key: a.ownerKey });
    expect(list.body).toEqual({ data: [m], next_cursor: null });
  });

  it("A's mandate id through B's own account path is 404, and A's mandate is not revoked", async () => {
    const a = await createAccount();
    const b = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    await expectProblem(await call(`/v1/accounts/${b.id}/mandates/${m.id}`, { key: b.ownerKey }), 404, "not_found");
    await expectProblem(await call(`/v1/accounts/${b.id}/mandates/${m.id}`, { method: "DELETE", key: b.ownerKey }), 404, "not_found");
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { key: a.ownerKey })).body).toEqual(m);
  });

  it("B cannot bind its own key to A's mandate (A's cap would pay for B's calls)", async () => {
    const a = await createAccount();
    const b = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    const res = await call(`/v1/accounts/${b.id}/agent-keys`, { key: b.ownerKey, body: { name: "steal", mandate_id: m.id } });
    const problem = await expectProblem(res, 400, "invalid_request");
    expect(problem.detail).toBe("mandate_id: no such mandate on this account");
    expect((await api(`/v1/accounts/${b.id}/agent-keys`, { key: b.ownerKey })).body.data).toEqual([]);
  });
});

describe("agents cannot widen their own authority", () => {
  it("an agent key (even of the account) cannot create, list, read or revoke mandates: 404", async () => {
    const a = await createAccount();
    await credit(a.id, 1_000);
    const m = await createMandate(a.id, a.ownerKey, { max_total: 10, max_per_call: 10 });
    const agent = await boundKey(a.id, a.ownerKey, m.id);
    const free = await createAgentKey(a.id, a.ownerKey, "unbound");
    for (const key of [agent.key, free.key]) {
      await expectProblem(
        await call(`/v1/accounts/${a.id}/mandates`, { key, body: terms({ max_total: 1_000_000, max_per_call: 1_000_000 }) }),
        404,
        "not_found",
      );
      await expectProblem(await call(`/v1/accounts/${a.id}/mandates`, { key }), 404, "not_found");
      await expectProblem(await call(`/v1/accounts/${a.id}/mandates/${m.id}`, { key }), 404, "not_found");
      await expectProblem(await call(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key }), 404, "not_found");
      // Nor issue itself a key bound to a different mandate, or none.
      await expectProblem(await call(`/v1/accounts/${a.id}/agent-keys`, { key, body: { name: "escape" } }), 404, "not_found");
    }
    expect((await api(`/v1/accounts/${a.id}/mandates`, { key: a.ownerKey })).body.data).toEqual([m]);
  });

  it("provider keys do not reach mandates: 404", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates`, { key: prov.key }), 404, "not_found");
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: prov.key }), 404, "not_found");
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates`, { key: prov.key, body: terms() }), 404, "not_found");
  });
});

describe("terms are immutable", () => {
  it("there is no PATCH or PUT: 404, and the terms are unchanged", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    for (const method of ["PATCH", "PUT"]) {
      for (const key of [a.ownerKey, OPERATOR]) {
        await expectProblem(await call(`/v1/accounts/${a.id}/mandates/${m.id}`, { method, key, body: { max_total: 1_000_000 } }), 404, "not_found");
      }
    }
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { key: a.ownerKey })).body).toEqual(m);
  });

  it("a POST cannot name an id or counters to overwrite an existing mandate", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    for (const extra of [{ id: m.id }, { spent: 0 }, { intent_hash: "0".repeat(64) }, { created_at: iso(0) }]) {
      await expectProblem(
        await call(`/v1/accounts/${a.id}/mandates`, { key: a.ownerKey, body: { ...terms({ max_total: 9_999 }), ...extra } }),
        400,
        "invalid_request",
      );
    }
    expect((await api(`/v1/accounts/${a.id}/mandates`, { key: a.ownerKey })).body.data).toEqual([m]);
  });

  it("a revoked mandate cannot be revived by a second DELETE or by binding a new key", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    const revoked = (await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: a.ownerKey })).body;
    expect(revoked.revoked_at).not.toBeNull();
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: OPERATOR })).body).toEqual(revoked);
    await expectProblem(await call(`/v1/accounts/${a.id}/agent-keys`, { key: a.ownerKey, body: { name: "k", mandate_id: m.id } }), 400, "invalid_request");
  });
});

describe("tags cannot be forged or leaked", () => {
  it("the tollgate-tags header is not forwarded to the origin", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const a = await createAccount();
    await credit(a.id, 100);
    const m = await createMandate(a.id, a.ownerKey, { tags: { team: "growth" } });
    const k = await boundKey(a.id, a.ownerKey, m.id);
    const res = await call(`/s/${svc.slug}/echo`, { key: k.key, headers: { "tollgate-tags": "team=finance,session=s1" } });
    expect(res.status).toBe(200);
    const echoed = await res.json<any>();
    expect(Object.keys(echoed.headers).filter((h) => h.startsWith("tollgate-tags"))).toEqual([]);
    // An agent cannot re-label its spending as another team's: the mandate's tag wins.
    const [capture] = await transfers(a.id);
    expect(capture.tags).toEqual({ team: "growth", session: "s1" });
  });

  it("a formula-leading tag value is refused before any money moves (no CSV/spreadsheet injection)", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const a = await createAccount();
    await credit(a.id, 100);
    const m = await createMandate(a.id, a.ownerKey);
    const k = await boundKey(a.id, a.ownerKey, m.id);
    for (const value of ['=HYPERLINK("http://evil")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]) {
      await expectProblem(await call(`/s/${svc.slug}/echo`, { key: k.key, headers: { "tollgate-tags": `team=${value}` } }), 400, "invalid_request");
    }
    expect(await balance(a.id)).toEqual({ currency: "USD", posted: 100, pending: 0, available: 100 });
    expect((await transfers(a.id)).filter((t) => t.kind === "capture")).toEqual([]);
  });
});

describe("racing calls cannot overrun a mandate (I2, I9)", () => {
  it("100 concurrent proxied calls of price 1 under max_total 20: exactly 20 succeed", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const a = await createAccount();
    await credit(a.id, 1_000_000);
    const m = await createMandate(a.id, a.ownerKey, { max_total: 20, max_per_call: 1 });
    const k = await boundKey(a.id, a.ownerKey, m.id);
    const responses = await Promise.all(Array.from({ length: 100 }, () => call(`/s/${svc.slug}/echo`, { key: k.key })));
    const statuses = responses.map((r) => r.status);
    const bodies = await Promise.all(responses.map((r) => r.json<any>()));
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 403)).toHaveLength(80);
    for (let i = 0; i < responses.length; i++) {
      if (statuses[i] === 403) expect(bodies[i]).toMatchObject({ code: "mandate_exceeded", mandate_id: m.id });
      else expect(responses[i]?.headers.get("tollgate-charge")).toBe("1");
    }
    expect(await balance(a.id)).toEqual({ currency: "USD", posted: 1_000_000 - 20, pending: 0, available: 1_000_000 - 20 });
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { key: a.ownerKey })).body).toMatchObject({ spent: 20, pending: 0 });
    const captures = (await transfers(a.id, "?limit=100")).filter((t) => t.kind === "capture");
    expect(captures).toHaveLength(20);
    expect(captures.every((t) => t.amount === 1 && t.mandate_id === m.id)).toBe(true);
  });

  it("two keys bound to one mandate share its cap under a race", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 1 }] });
    const a = await createAccount();
    await credit(a.id, 1_000);
    const m = await createMandate(a.id, a.ownerKey, { max_total: 10, max_per_call: 1 });
    const [k1, k2] = [await boundKey(a.id, a.ownerKey, m.id), await boundKey(a.id, a.ownerKey, m.id)];
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => call(`/s/${svc.slug}/echo`, { key: i % 2 ? k1.key : k2.key })));
    for (const r of responses) await r.body?.cancel();
    expect(responses.filter((r) => r.status === 200)).toHaveLength(10);
    expect(await balance(a.id)).toEqual({ currency: "USD", posted: 990, pending: 0, available: 990 });
  });
});

describe("revocation", () => {
  it("a call already authorized completes and is charged; the next call is refused", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 7 }] });
    const a = await createAccount();
    await credit(a.id, 100);
    const m = await createMandate(a.id, a.ownerKey);
    const k = await boundKey(a.id, a.ownerKey, m.id);
    const inFlight = call(`/s/${svc.slug}/slow?ms=400`, { key: k.key });
    // Wait until its hold is visible, then revoke while the origin is still answering.
    for (let i = 0; i < 100 && (await balance(a.id)).pending === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await balance(a.id)).pending).toBe(7);
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: a.ownerKey })).status).toBe(200);
    const done = await inFlight;
    expect(done.status).toBe(200);
    expect(done.headers.get("tollgate-charge")).toBe("7");
    await done.body?.cancel();
    await expectProblem(await call(`/s/${svc.slug}/echo`, { key: k.key }), 403, "mandate_revoked");
    expect(await balance(a.id)).toEqual({ currency: "USD", posted: 93, pending: 0, available: 93 });
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { key: a.ownerKey })).body).toMatchObject({
      spent: 7,
      pending: 0,
      revoked_at: expect.any(String),
    });
  });

  it("the bound agent still sees its (revoked) mandate in /v1/me; its key is not revoked", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    const k = await boundKey(a.id, a.ownerKey, m.id);
    await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: a.ownerKey });
    const me = await api("/v1/me", { key: k.key });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ key: { id: k.id, revoked_at: null, mandate_id: m.id }, mandate: { id: m.id, revoked_at: expect.any(String) } });
  });
});
