import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, balance, call, expectProblem } from "./helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

let w: RefundWorld;
let charge: string;
beforeAll(async () => {
  w = await refundWorld(1_000, 0);
  charge = await exportedCharge(w);
});

const refund = (body: unknown, headers: Record<string, string> = {}) => call("/v1/refunds", { key: w.prov.key, body, headers });

describe("POST /v1/refunds: bad input", () => {
  it("amounts that are not positive integers below 2^53 → 400 invalid_request, nothing moves", async () => {
    const posted = (await balance(w.p.accountId)).posted;
    for (const amount of [0, -1, 1.5, "5", 2 ** 53, null, true]) {
      await expectProblem(await refund({ transfer_id: charge, amount }), 400, "invalid_request");
    }
    expect((await balance(w.p.accountId)).posted).toBe(posted);
  });

  it("a missing or malformed transfer_id, or unknown members → 400", async () => {
    await expectProblem(await refund({ amount: 1 }), 400, "invalid_request");
    await expectProblem(await refund({ transfer_id: 5 }), 400, "invalid_request");
    await expectProblem(await refund({ transfer_id: "", amount: 1 }), 400, "invalid_request");
    await expectProblem(await refund({ transfer_id: charge, amount: 1, fee: 1 }), 400, "invalid_request");
    await expectProblem(await refund({ transfer_id: charge, reason: "" }), 400, "invalid_request");
  });

  it("more than is left → 422 refund_exceeds_charge, with what is refundable", async () => {
    const c = await exportedCharge(w);
    expect((await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: c, amount: 400 } })).status).toBe(201);
    const body = await expectProblem(await refund({ transfer_id: c, amount: 601 }), 422, "refund_exceeds_charge");
    expect(body.refundable).toBe(600);
    expect((await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: c } })).status).toBe(201);
    await expectProblem(await refund({ transfer_id: c }), 422, "refund_exceeds_charge");
  });

  it("the same Idempotency-Key with another body → 422 idempotency_mismatch", async () => {
    const c = await exportedCharge(w);
    expect((await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: c, amount: 10 }, headers: { "idempotency-key": "k" } })).status).toBe(201);
    await expectProblem(await refund({ transfer_id: c, amount: 11 }, { "idempotency-key": "k" }), 422, "idempotency_mismatch");
    await expectProblem(await refund({ transfer_id: c, amount: 10, reason: "x" }, { "idempotency-key": "k" }), 422, "idempotency_mismatch");
  });

  it("a credit, a refund or an unknown id is no charge → 404", async () => {
    const journal = await api(`/v1/accounts/${w.p.accountId}/transfers?limit=100`, { key: OPERATOR });
    const credit = journal.body.data.find((t: { kind: string }) => t.kind === "credit").id;
    await expectProblem(await call("/v1/refunds", { key: OPERATOR, body: { transfer_id: credit } }), 404, "not_found");
    await expectProblem(await refund({ transfer_id: "tr_00000000000000000000" }), 404, "not_found");
  });

  it("a cursor GET /v1/refunds did not return → 400", async () => {
    await expectProblem(await call("/v1/refunds?cursor=bm9wZQ", { key: w.prov.key }), 400, "invalid_request");
    await expectProblem(await call("/v1/refunds?limit=0", { key: w.prov.key }), 400, "invalid_request");
  });
});
