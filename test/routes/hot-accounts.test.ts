import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { AccountShard } from "../../durable-objects/shard";
import { sendQueuedCaptures } from "../../worker/account-client/capture-queue";
import { shardFor } from "../../worker/account-client/stub";
import { OPERATOR, api, balance, call, createProvider, createService, expectProblem, payer, transfers } from "./helpers";
import { exportNow, testEnv } from "./ledger-helpers";

// A hot account through the API: `PATCH /v1/accounts/{id}` sets its shards, calls through the
// proxy spread over them, and the account still reads as one: balance, transfers, D1, reconciler.

let svc: { slug: string };
beforeAll(async () => {
  const prov = await createProvider();
  svc = await createService(prov.key, { prices: [{ per_call: 100 }] });
});

/** Sends the shards' queued captures and runs their alarms: everything they captured is in the parent's journal. */
async function settleShards(accountId: string, shards: number): Promise<void> {
  for (let i = 1; i <= shards; i++) {
    const shard = shardFor(testEnv, accountId, i);
    await sendQueuedCaptures(`${accountId}#${i}`, () => shard);
    if (!(await runDurableObjectAlarm(shard))) await runInDurableObject(shard, (s: AccountShard) => s.alarm());
  }
}

describe("PATCH /v1/accounts/{id} (shards)", () => {
  it("refuses a shard count outside 1–64, or anything else, with problem+json, changing nothing", async () => {
    const p = await payer(0);
    for (const body of [{ shards: 0 }, { shards: 65 }, { shards: 2.5 }, { shards: "8" }, {}, { shards: 4, name: "x" }]) {
      const res = await call(`/v1/accounts/${p.accountId}`, { method: "PATCH", key: p.ownerKey, body });
      await expectProblem(res, 400, "invalid_request");
    }
    const res = await call("/v1/accounts/acct_nope", { method: "PATCH", key: OPERATOR, body: { shards: 4 } });
    await expectProblem(res, 404, "not_found");
  });

  it("a hot account's calls spread over its shards, and it still reads as one account", async () => {
    const p = await payer(2_000);
    const set = await api(`/v1/accounts/${p.accountId}`, { method: "PATCH", key: p.ownerKey, body: { shards: 4 } });
    expect(set).toMatchObject({ status: 200, body: { id: p.accountId, shards: 4 } });
    const paid = async () => {
      const res = await call(`/s/${svc.slug}/echo`, { key: p.agentKey });
      await res.body?.cancel();
      return res.status;
    };
    // The first call tells this isolate the account is hot (the parent serves it); the next ones spread.
    const statuses = [await paid(), ...(await Promise.all(Array.from({ length: 39 }, paid)))];
    expect(
      statuses.filter((s) => s === 200),
      JSON.stringify(statuses),
    ).toHaveLength(20);
    expect(statuses.filter((s) => s === 402)).toHaveLength(20);
    await settleShards(p.accountId, 4);
    const servedByShards = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        runInDurableObject(shardFor(testEnv, p.accountId, i), (_s: AccountShard, st) => Number(st.storage.sql.exec("SELECT COUNT(*) AS n FROM holds").one().n)),
      ),
    );
    expect(servedByShards.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 0, pending: 0, available: 0 });
    const journal = await transfers(p.accountId, "?limit=100");
    expect(journal.map((t: { seq: number }) => t.seq)).toEqual(Array.from({ length: 21 }, (_, i) => 21 - i));
    expect(journal.filter((t: { kind: string }) => t.kind === "capture")).toHaveLength(20);
    await exportNow(p.accountId);
    const reconciled = await api(`/v1/reconciliation?account_id=${p.accountId}`, { key: OPERATOR });
    expect(reconciled.body).toMatchObject({ ok: true, discrepancies: [], accounts: 1, transfers_checked: 21, not_yet_exported: 0 });
  });
});
