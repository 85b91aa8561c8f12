import { describe, expect, it } from "vitest";
import { OPERATOR, api, balance, call, createAccount, createAgentKey, credit, expectProblem, transfers } from "./helpers";

describe("POST /v1/accounts: bad input → 400", () => {
  const bad: [string, unknown][] = [
    ["lower-case currency", { name: "a", currency: "usd" }],
    ["two-letter currency", { name: "a", currency: "US" }],
    ["missing currency", { name: "a" }],
    ["missing name", { currency: "USD" }],
    ["empty name", { name: "", currency: "USD" }],
    ["an unknown field", { name: "a", currency: "USD", owner_key: "tg_owner_x" }],
    ["not JSON", "{name: a"],
  ];
  it.each(bad)("%s", async (_label, body) => {
    const res = await call("/v1/accounts", { key: OPERATOR, body });
    const problem = await expectProblem(res, 400, "invalid_request");
    expect(problem.detail.length).toBeGreaterThan(0);
  });

  it("a JSON body sent as text/plain → 400", async () => {
    const res = await call("/v1/accounts", { key: OPERATOR, body: `{"name":"a","currency":"USD"}`, headers: { "content-type": "text/plain" } });
    await expectProblem(res, 400, "invalid_request");
  });
});

describe("POST /v1/accounts/{id}/credits: bad amounts → 400, balance unchanged", () => {
  const cases: [string, string][] = [
    ["0", `{"amount": 0}`],
    ["-1", `{"amount": -1}`],
    ["1.5", `{"amount": 1.5}`],
    ['"100" (a string)', `{"amount": "100"}`],
    ["2^53", `{"amount": ${2 ** 53}}`],
    ["2^53 + 1", `{"amount": 9007199254740993}`],
    ["1e400 (Infinity)", `{"amount": 1e400}`],
    ["null", `{"amount": null}`],
    ["missing", `{"reference": "no amount"}`],
    ["wrong currency", `{"amount": 100, "currency": "EUR"}`],
    ["malformed currency", `{"amount": 100, "currency": "dollars"}`],
    ["an unknown field", `{"amount": 100, "account": "acct_x"}`],
    ["an array body", `[100]`],
  ];
  it.each(cases)("amount %s", async (_label, body) => {
    const { id } = await createAccount();
    await credit(id, 1000);
    const res = await call(`/v1/accounts/${id}/credits`, { key: OPERATOR, body, headers: { "content-type": "application/json" } });
    await expectProblem(res, 400, "invalid_request");
    expect(await balance(id)).toEqual({ currency: "USD", posted: 1000, pending: 0, available: 1000 });
    expect(await transfers(id)).toHaveLength(1);
  });

  it("a credit that would take the account's credits past 2^53 − 1 → 422 amount_out_of_range; nothing moves", async () => {
    // Each amount is well formed; their sum is not a number a balance can be reported in.
    const { id } = await createAccount();
    await credit(id, Number.MAX_SAFE_INTEGER - 1);
    const body = await expectProblem(await call(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 2 } }), 422, "amount_out_of_range");
    expect(body.detail).toMatch(/2\^53/);
    const max = Number.MAX_SAFE_INTEGER - 1;
    expect(await balance(id)).toEqual({ currency: "USD", posted: max, pending: 0, available: max });
    expect(await transfers(id)).toHaveLength(1);
    // Up to the limit itself is fine.
    await credit(id, 1);
    expect((await balance(id)).posted).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("an Idempotency-Key over 255 characters → 400", async () => {
    const { id } = await createAccount();
    const res = await call(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 1 }, headers: { "idempotency-key": "k".repeat(256) } });
    await expectProblem(res, 400, "invalid_request");
    expect((await balance(id)).posted).toBe(0);
  });
});

describe("credits: idempotency and unknown accounts", () => {
  it("the same Idempotency-Key with another body → 422 idempotency_mismatch; nothing moves; the first still replays", async () => {
    const { id } = await createAccount();
    const headers = { "idempotency-key": "topup-7" };
    const first = await api(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 500 }, headers });
    expect(first.status).toBe(201);
    await expectProblem(await call(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 501 }, headers }), 422, "idempotency_mismatch");
    await expectProblem(
      await call(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 500, reference: "changed" }, headers }),
      422,
      "idempotency_mismatch",
    );
    expect(await balance(id)).toEqual({ currency: "USD", posted: 500, pending: 0, available: 500 });
    const again = await api(`/v1/accounts/${id}/credits`, { key: OPERATOR, body: { amount: 500 }, headers });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.transfer.id).toBe(first.body.transfer.id);
    expect(await transfers(id)).toHaveLength(1);
  });

  it("idempotency keys are per account", async () => {
    const a = await createAccount();
    const b = await createAccount();
    const headers = { "idempotency-key": "shared" };
    expect((await api(`/v1/accounts/${a.id}/credits`, { key: OPERATOR, body: { amount: 5 }, headers })).status).toBe(201);
    const other = await api(`/v1/accounts/${b.id}/credits`, { key: OPERATOR, body: { amount: 6 }, headers });
    expect(other.status).toBe(201);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    expect((await balance(b.id)).posted).toBe(6);
  });

  it("crediting an account that does not exist → 404", async () => {
    await expectProblem(await call("/v1/accounts/acct_00000000000000000000/credits", { key: OPERATOR, body: { amount: 5 } }), 404, "not_found");
    await expectProblem(await call("/v1/accounts/not-an-id/credits", { key: OPERATOR, body: { amount: 5 } }), 404, "not_found");
  });

  it("an account that does not exist has no balance (404), even for the operator", async () => {
    await expectProblem(await call("/v1/accounts/acct_00000000000000000000/balance", { key: OPERATOR }), 404, "not_found");
    await expectProblem(await call("/v1/accounts/acct_00000000000000000000", { key: OPERATOR }), 404, "not_found");
  });
});

describe("transfers and key lists: bad paging → 400", () => {
  const badQueries = ["?cursor=!!!", `?cursor=${btoa("not-a-seq")}`, "?limit=0", "?limit=101", "?limit=abc", "?limit=1.5", `?cursor=${"a".repeat(201)}`];
  it.each(badQueries)("transfers%s", async (q) => {
    const { id, ownerKey } = await createAccount();
    await expectProblem(await call(`/v1/accounts/${id}/transfers${q}`, { key: ownerKey }), 400, "invalid_request");
  });

  it.each(["?cursor=!!!", "?limit=0", "?limit=101"])("agent-keys%s", async (q) => {
    const { id, ownerKey } = await createAccount();
    await expectProblem(await call(`/v1/accounts/${id}/agent-keys${q}`, { key: ownerKey }), 400, "invalid_request");
  });
});

describe("agent keys: bad input", () => {
  it("issuing a key without a name → 400; with an unknown field → 400", async () => {
    const { id, ownerKey } = await createAccount();
    await expectProblem(await call(`/v1/accounts/${id}/agent-keys`, { key: ownerKey, body: {} }), 400, "invalid_request");
    await expectProblem(await call(`/v1/accounts/${id}/agent-keys`, { key: ownerKey, body: { name: "x", key: "tg_agent_chosen" } }), 400, "invalid_request");
    const list = await api(`/v1/accounts/${id}/agent-keys`, { key: ownerKey });
    expect(list.body.data).toEqual([]);
  });

  it("revoking a key the account does not have → 404", async () => {
    const { id, ownerKey } = await createAccount();
    await expectProblem(await call(`/v1/accounts/${id}/agent-keys/ak_00000000000000000000`, { method: "DELETE", key: ownerKey }), 404, "not_found");
  });

  it("revoking twice keeps the first revocation time", async () => {
    const { id, ownerKey } = await createAccount();
    const k = await createAgentKey(id, ownerKey);
    const first = await api(`/v1/accounts/${id}/agent-keys/${k.id}`, { method: "DELETE", key: ownerKey });
    const second = await api(`/v1/accounts/${id}/agent-keys/${k.id}`, { method: "DELETE", key: ownerKey });
    expect(second.status).toBe(200);
    expect(second.body.revoked_at).toBe(first.body.revoked_at);
  });

  it("issuing a key on an account that does not exist → 404 (operator)", async () => {
    await expectProblem(await call("/v1/accounts/acct_00000000000000000000/agent-keys", { key: OPERATOR, body: { name: "x" } }), 404, "not_found");
  });
});
