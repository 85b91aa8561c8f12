import { beforeAll, describe, expect, it } from "vitest";
import { api, balance, call, createProvider, expectProblem } from "./helpers";
import { DB, exportNow } from "./ledger-helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

let w: RefundWorld;
let charge: string;
let other: { id: string; key: string };
beforeAll(async () => {
  w = await refundWorld(1_000, 0);
  charge = await exportedCharge(w);
  other = await createProvider();
});

describe("refunds: who may refund what", () => {
  it("another provider's charge is 404, exactly as an unknown one, and moves nothing", async () => {
    const posted = (await balance(w.p.accountId)).posted;
    const theirs = await expectProblem(await call("/v1/refunds", { key: other.key, body: { transfer_id: charge, amount: 1 } }), 404, "not_found");
    const unknown = await expectProblem(
      await call("/v1/refunds", { key: other.key, body: { transfer_id: "tr_00000000000000000000", amount: 1 } }),
      404,
      "not_found",
    );
    expect(theirs).toEqual(unknown);
    expect((await balance(w.p.accountId)).posted).toBe(posted);
  });

  it("a refund of a refund is refused, even by the provider that made it", async () => {
    const r = await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: charge, amount: 5 } });
    expect(r.status).toBe(201);
    await exportNow(w.p.accountId);
    await expectProblem(await call("/v1/refunds", { key: w.prov.key, body: { transfer_id: r.body.id } }), 404, "not_found");
  });

  it("the payer's owner and agent keys cannot refund (403)", async () => {
    await expectProblem(await call("/v1/refunds", { key: w.p.ownerKey, body: { transfer_id: charge, amount: 1 } }), 403, "forbidden");
    await expectProblem(await call("/v1/refunds", { key: w.p.agentKey, body: { transfer_id: charge, amount: 1 } }), 403, "forbidden");
  });

  it("a provider's list holds only its own charges' refunds", async () => {
    const r = await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: charge, amount: 2 } });
    expect(r.status).toBe(201);
    await exportNow(w.p.accountId);
    const list = await api("/v1/refunds?limit=100", { key: other.key });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
    const mine = await api("/v1/refunds?limit=100", { key: w.prov.key });
    expect(mine.body.data.map((x: { id: string }) => x.id)).toContain(r.body.id);
  });

  it("a provider's idempotency keys are its own: another provider's same key does not replay its refund", async () => {
    const c = await exportedCharge(w);
    expect((await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: c, amount: 3 }, headers: { "idempotency-key": "shared" } })).status).toBe(201);
    await expectProblem(
      await call("/v1/refunds", { key: other.key, body: { transfer_id: c, amount: 3 }, headers: { "idempotency-key": "shared" } }),
      404,
      "not_found",
    );
    await exportNow(w.p.accountId);
    const n = await DB.prepare("SELECT COUNT(*) AS n FROM transfers WHERE refund_of = ?").bind(c).first<{ n: number }>();
    expect(n?.n).toBe(1);
  });
});
