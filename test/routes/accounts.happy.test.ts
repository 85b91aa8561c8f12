import { describe, expect, it } from "vitest";
import { OPERATOR, api, balance, createAccount, createAgentKey, createProvider, createService, credit, expectProblem, call, payer } from "./helpers";

describe("POST /v1/accounts", () => {
  it("opens an account with a zero balance and shows the owner key once", async () => {
    const r = await api("/v1/accounts", { key: OPERATOR, body: { name: "Acme agents", currency: "EUR" } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: expect.stringMatching(/^acct_[0-9a-z]{20}$/), name: "Acme agents", currency: "EUR" });
    expect(r.body.owner_key).toMatch(new RegExp(`^tg_owner_${r.body.id.slice(5)}_[0-9a-z]{32}$`));
    expect(await balance(r.body.id)).toEqual({ currency: "EUR", posted: 0, pending: 0, available: 0 });

    const seen = await api(`/v1/accounts/${r.body.id}`, { key: r.body.owner_key });
    expect(seen.status).toBe(200);
    expect(seen.body).toEqual({ id: r.body.id, name: "Acme agents", currency: "EUR", created_at: r.body.created_at });
  });
});

describe("POST /v1/accounts/{id}/credits", () => {
  it("credits: 201 with the transfer and the new balance, which GET balance agrees with", async () => {
    const { id } = await createAccount();
    const r = await api(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 1500, reference: "inv_42" } });
    expect(r.status).toBe(201);
    expect(r.body.transfer).toMatchObject({
      id: expect.stringMatching(/^tr_/),
      seq: 1,
      kind: "credit",
      amount: 1500,
      fee: 0,
      currency: "USD",
      reference: "inv_42",
      hold_id: null,
    });
    expect(r.body.balance).toEqual({ currency: "USD", posted: 1500, pending: 0, available: 1500 });
    expect(r.headers.get("idempotent-replayed")).toBeNull();
    await credit(id, 2500);
    expect(await balance(id)).toEqual({ currency: "USD", posted: 4000, pending: 0, available: 4000 });
  });

  it("accepts the account's own currency and the largest safe amount", async () => {
    const { id } = await createAccount();
    const r = await api(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: Number.MAX_SAFE_INTEGER, currency: "USD" } });
    expect(r.status).toBe(201);
    expect((await balance(id)).available).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("replays a repeat with the same Idempotency-Key and body: same transfer, credited once", async () => {
    const { id } = await createAccount();
    const send = () => api(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 700, reference: "r" }, headers: { "idempotency-key": "topup-1" } });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body.transfer).toEqual(first.body.transfer);
    expect(await balance(id)).toEqual({ currency: "USD", posted: 700, pending: 0, available: 700 });
  });

  it("credits once when the same Idempotency-Key arrives many times at once", async () => {
    const { id } = await createAccount();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => api(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 300 }, headers: { "idempotency-key": "burst" } })),
    );
    // The DO runs credits one at a time, so no repeat is ever "in flight" (409): all replay.
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(results.map((r) => r.body.transfer.id)).size).toBe(1);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
    expect(await balance(id)).toEqual({ currency: "USD", posted: 300, pending: 0, available: 300 });
  });

  it("treats different Idempotency-Keys as different credits", async () => {
    const { id } = await createAccount();
    for (const k of ["a", "b"]) {
      const r = await api(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 10 }, headers: { "idempotency-key": k } });
      expect(r.status).toBe(201);
    }
    expect((await balance(id)).posted).toBe(20);
  });
});

describe("agent keys", () => {
  it("issues, lists (without secrets) and revokes agent keys", async () => {
    const { id, ownerKey } = await createAccount();
    const created = await api(`/v1/accounts/${id}/agent-keys`, { key: ownerKey, body: { name: "research-bot" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^ak_/), name: "research-bot", account_id: id, revoked_at: null });
    expect(created.body.key).toMatch(new RegExp(`^tg_agent_${id.slice(5)}_[0-9a-z]{32}$`));

    const list = await api(`/v1/accounts/${id}/agent-keys`, { key: ownerKey });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      {
        id: created.body.id,
        name: "research-bot",
        mandate_id: null,
        max_calls_per_minute: null,
        max_spend_per_minute: null,
        created_at: created.body.created_at,
        revoked_at: null,
        frozen_at: null,
      },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);

    const revoked = await api(`/v1/accounts/${id}/agent-keys/${created.body.id}`, { method: "DELETE", key: ownerKey });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: created.body.id, revoked_at: expect.any(String) });
    const after = await api(`/v1/accounts/${id}/agent-keys`, { key: ownerKey });
    expect(after.body.data[0].revoked_at).toBe(revoked.body.revoked_at);
  });

  it("a revoked key's next proxied call is 401 and costs nothing; other keys keep working", async () => {
    const prov = await createProvider();
    const svc = await createService(prov.key, { prices: [{ per_call: 100 }] });
    const p = await payer(1000);
    const other = await createAgentKey(p.accountId, p.ownerKey, "other");
    const ok = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
    expect(ok.status).toBe(200);
    await ok.body?.cancel();

    const del = await call(`/v1/accounts/${p.accountId}/agent-keys/${p.agentKeyId}`, { method: "DELETE", key: p.ownerKey });
    expect(del.status).toBe(200);
    await expectProblem(await call(`/s/${svc.slug}/echo`, { key: p.agentKey }), 401, "invalid_key");
    await expectProblem(await call("/v1/me", { key: p.agentKey }), 401, "invalid_key");
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 900, pending: 0, available: 900 });

    const still = await call(`/s/${svc.slug}/echo`, { key: other.key });
    expect(still.status).toBe(200);
    expect(still.headers.get("tollgate-balance")).toBe("800");
  });

  it("pages the key list with limit and next_cursor", async () => {
    const { id, ownerKey } = await createAccount();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await createAgentKey(id, ownerKey, `k${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const r = await api(`/v1/accounts/${id}/agent-keys${q}`, { key: ownerKey });
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.data.map((k: { id: string }) => k.id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(ids);
  });
});

describe("GET /v1/accounts/{id}/transfers", () => {
  it("lists the journal newest first, paged by limit and next_cursor", async () => {
    const { id, ownerKey } = await createAccount();
    for (const amount of [1, 2, 3, 4, 5]) await credit(id, amount);
    const pages: number[][] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
      const r = await api(`/v1/accounts/${id}/transfers${q}`, { key: ownerKey });
      expect(r.status).toBe(200);
      pages.push(r.body.data.map((t: { amount: number }) => t.amount));
      cursor = r.body.next_cursor;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor);
    expect(pages).toEqual([[5, 4], [3, 2], [1]]);

    const all = await api(`/v1/accounts/${id}/transfers`, { key: ownerKey });
    expect(all.body.data.map((t: { seq: number }) => t.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(all.body.next_cursor).toBeNull();
  });

  it("an exact last page has no next_cursor", async () => {
    const { id } = await createAccount();
    await credit(id, 1);
    await credit(id, 2);
    const r = await api(`/v1/accounts/${id}/transfers?limit=2`, { key: OPERATOR });
    expect(r.body.data).toHaveLength(2);
    expect(r.body.next_cursor).toBeNull();
  });
});

describe("GET /v1/me", () => {
  it("shows the agent its account, key and balance, and no secret", async () => {
    const p = await payer(4321);
    const r = await api("/v1/me", { key: p.agentKey });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      account_id: p.accountId,
      key: {
        id: p.agentKeyId,
        name: "bot",
        mandate_id: null,
        max_calls_per_minute: null,
        max_spend_per_minute: null,
        created_at: expect.any(String),
        revoked_at: null,
        frozen_at: null,
      },
      balance: { currency: "USD", posted: 4321, pending: 0, available: 4321 },
      mandate: null,
    });
    expect(JSON.stringify(r.body)).not.toContain(p.agentKey);
  });

  it("accepts the agent key as x-api-key too", async () => {
    const p = await payer(5);
    const r = await api("/v1/me", { headers: { "x-api-key": p.agentKey } });
    expect(r.status).toBe(200);
    expect(r.body.account_id).toBe(p.accountId);
  });
});
