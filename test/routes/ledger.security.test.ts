import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, createService, expectProblem, payer, type Payer } from "./helpers";
import { exportNow, paidCall, parseCsv } from "./ledger-helpers";

type Prov = { id: string; key: string };
let provA: Prov;
let provB: Prov;
let a: Payer;
let b: Payer;
beforeAll(async () => {
  [provA, provB] = await Promise.all([createProvider(), createProvider()]);
  const [svcA, svcB] = await Promise.all([createService(provA.key, { prices: [{ per_call: 10 }] }), createService(provB.key, { prices: [{ per_call: 20 }] })]);
  [a, b] = await Promise.all([payer(1000), payer(1000)]);
  await paidCall(svcA.slug, a.agentKey);
  await paidCall(svcB.slug, a.agentKey);
  await paidCall(svcB.slug, b.agentKey);
  await Promise.all([exportNow(a.accountId), exportNow(b.accountId)]);
});

const ids = async (key: string) => {
  const r = await api("/v1/ledger/entries?limit=100", { key });
  expect(r.status).toBe(200);
  return r.body.data as any[];
};

describe("ledger entries are scoped to the caller", () => {
  it("an owner sees its own account's entries only (JSON and CSV)", async () => {
    const mine = await ids(a.ownerKey);
    expect(mine.length).toBe(3); // external→A (credit), A→provA and A→provB (captures, no fee)
    for (const e of mine) expect(e.account_id).toBe(a.accountId);
    const csv = parseCsv(await (await call("/v1/ledger/entries?format=csv", { key: a.ownerKey })).text()).slice(1);
    expect(csv.map((r) => r[9])).toEqual(mine.map(() => a.accountId));
    expect(JSON.stringify(csv)).not.toContain(b.accountId);
  });

  it("a provider sees the entries of transfers on its services only, never credits", async () => {
    for (const [prov, other] of [
      [provA, provB],
      [provB, provA],
    ] as const) {
      const seen = await ids(prov.key);
      expect(seen.length).toBeGreaterThan(0);
      for (const e of seen) {
        expect(e.transfer_kind).toBe("capture");
        expect(e.credit_account).not.toBe(other.id);
      }
    }
    expect((await ids(provA.key)).map((e) => e.account_id)).toEqual([a.accountId]);
    expect(new Set((await ids(provB.key)).map((e) => e.account_id))).toEqual(new Set([a.accountId, b.accountId]));
  });

  it("the operator sees everything", async () => {
    const all = await ids(OPERATOR);
    expect(new Set(all.map((e) => e.account_id))).toEqual(new Set([a.accountId, b.accountId]));
    expect(all).toHaveLength(3 + 2);
  });

  it("agent keys are refused (403), in either format", async () => {
    await expectProblem(await call("/v1/ledger/entries", { key: a.agentKey }), 403, "forbidden");
    await expectProblem(await call("/v1/ledger/entries?format=csv", { key: a.agentKey }), 403, "forbidden");
  });

  it("a cursor cannot widen the scope: B's position in A's owner listing yields only A's rows", async () => {
    const theirs = await api("/v1/ledger/entries?limit=1", { key: b.ownerKey });
    const next = theirs.body.next_cursor as string;
    expect(next).toBeTruthy();
    for (const e of await (async () => (await api(`/v1/ledger/entries?cursor=${next}`, { key: a.ownerKey })).body.data as any[])()) {
      expect(e.account_id).toBe(a.accountId);
    }
  });
});
