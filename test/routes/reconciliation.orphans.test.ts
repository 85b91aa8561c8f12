/**
 * An account creation that fails half-way: D1's directory row is written first, then the ledger
 * is opened. When the open fails, the row is left behind as an account whose ledger is not open,
 * and the reconciler, which walks the accounts table, must report it and be able to open it.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import type { Env } from "../../worker/env";
import { OPERATOR, api, balance, call, expectProblem, GATEWAY, unique } from "./helpers";
import { DB } from "./ledger-helpers";

const real = env as unknown as Env;

/** POST /v1/accounts with every ledger's `open` failing, as if the Durable Object were unreachable. */
async function createWithLedgerDown(name: string): Promise<Response> {
  const ACCOUNT = {
    idFromName: (n: string) => real.ACCOUNT.idFromName(n),
    get: () => ({ open: () => Promise.reject(new Error("the ledger is unreachable")) }),
  };
  const ctx = createExecutionContext();
  const request = new Request(`${GATEWAY}/v1/accounts`, {
    method: "POST",
    headers: { authorization: `Bearer ${OPERATOR}`, "content-type": "application/json" },
    body: JSON.stringify({ name, currency: "EUR" }),
  });
  const res = await buildApp().fetch(request, { ...real, ACCOUNT }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function reconcile(query: string) {
  const r = await api(`/v1/reconciliation${query}`, { key: OPERATOR });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

describe("an account whose ledger could not be opened", () => {
  it("fails the request, is reported by the reconciler (ledger_not_opened) and repaired by opening its ledger", async () => {
    const name = unique("half-made");
    await expectProblem(await createWithLedgerDown(name), 503, "ledger_unavailable");
    const row = await DB.prepare("SELECT id, currency FROM accounts WHERE name = ?").bind(name).first<{ id: string; currency: string }>();
    expect(row).toMatchObject({ id: expect.stringMatching(/^acct_/), currency: "EUR" });
    const id = row?.id ?? "";
    // Nothing answers for it yet: its ledger holds nothing.
    await expectProblem(await call(`/v1/accounts/${id}/balance`, { key: OPERATOR }), 404, "not_found");

    // Within the grace period it may be a creation still under way; after it, an orphan.
    expect(await reconcile(`?account_id=${id}`)).toMatchObject({ ok: true, discrepancies: [] });
    await new Promise((r) => setTimeout(r, 5));
    const found = await reconcile(`?account_id=${id}&grace_seconds=0`);
    expect(found).toMatchObject({
      ok: false,
      discrepancies: [{ account_id: id, seq: null, kind: "ledger_not_opened", detail: expect.stringMatching(/never opened/) }],
    });
    expect((await reconcile("?grace_seconds=0&limit=50")).discrepancies).toContainEqual(expect.objectContaining({ account_id: id, kind: "ledger_not_opened" }));

    const repaired = await api("/v1/reconciliation/repairs", { key: OPERATOR, body: { account_id: id } });
    expect(repaired).toMatchObject({ status: 200, body: { account_id: id, ledger_opened: true } });
    // Idempotent: a second repair changes nothing.
    expect((await api("/v1/reconciliation/repairs", { key: OPERATOR, body: { account_id: id } })).body).toEqual({ account_id: id, ledger_opened: false });
    expect(await reconcile(`?account_id=${id}&grace_seconds=0`)).toMatchObject({ ok: true, discrepancies: [] });
    expect(await balance(id)).toEqual({ currency: "EUR", posted: 0, pending: 0, available: 0 });
    const trail = await api(`/v1/accounts/${id}/audit`, { key: OPERATOR });
    expect(trail.body.data.map((e: any) => [e.event, e.reason])).toEqual([["account_opened", "EUR"]]);
  });

  it("an account created normally is not an orphan, and repairing it changes nothing", async () => {
    const r = await api("/v1/accounts", { key: OPERATOR, body: { name: unique("whole"), currency: "USD" } });
    expect(r.status).toBe(201);
    await new Promise((res) => setTimeout(res, 5));
    expect(await reconcile(`?account_id=${r.body.id}&grace_seconds=0`)).toMatchObject({ ok: true, discrepancies: [] });
    expect((await api("/v1/reconciliation/repairs", { key: OPERATOR, body: { account_id: r.body.id } })).body).toEqual({
      account_id: r.body.id,
      ledger_opened: false,
    });
  });

  it("repairs: bad input → 400, unknown account → 404, not the operator → 403", async () => {
    for (const body of [{}, { account_id: "nope" }, { account_id: "acct_x", extra: 1 }, "not json"]) {
      await expectProblem(await call("/v1/reconciliation/repairs", { key: OPERATOR, body }), 400, "invalid_request");
    }
    await expectProblem(await call("/v1/reconciliation/repairs", { key: OPERATOR, body: { account_id: "acct_00000000000000000000" } }), 404, "not_found");
    const owner = await api("/v1/accounts", { key: OPERATOR, body: { name: unique("o"), currency: "USD" } });
    await expectProblem(await call("/v1/reconciliation/repairs", { key: owner.body.owner_key, body: { account_id: owner.body.id } }), 403, "forbidden");
  });
});
