import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, balance, createProvider, payer } from "./helpers";
import { openDispute, opened, resolve, respond } from "./dispute-helpers";
import { DB, exportNow } from "./ledger-helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

let w: RefundWorld;
let charge: string;
beforeAll(async () => {
  w = await refundWorld(1_000, 1_000);
  charge = await exportedCharge(w);
});

/** Nothing about the account moved: its balance and its D1 disputes are as they were. */
async function unchanged<T>(step: () => Promise<T>): Promise<T> {
  await exportNow(w.p.accountId);
  const count = () => DB.prepare("SELECT COUNT(*) AS n, COALESCE(MAX(version), 0) AS v FROM disputes WHERE account_id = ?").bind(w.p.accountId).first();
  const [before, disputes] = [await balance(w.p.accountId), await count()];
  const out = await step();
  await exportNow(w.p.accountId);
  expect(await balance(w.p.accountId)).toEqual(before);
  expect(await count()).toEqual(disputes);
  return out;
}

describe("opening a dispute: bad input changes nothing", () => {
  it.each([
    ["an unknown reason", { transfer_id: "x", reason: "changed_my_mind" }],
    ["no transfer_id", { reason: "unauthorized" }],
    ["an unknown field", { transfer_id: "x", reason: "unauthorized", amount: 5 }],
    ["a detail too long", { transfer_id: "x", reason: "defective", detail: "x".repeat(2001) }],
    ["a number for a reason", { transfer_id: "x", reason: 1 }],
  ])("%s is 400", async (_, body) => {
    const r = await unchanged(() => openDispute(w, { ...body, ...("transfer_id" in body ? { transfer_id: charge } : {}) }));
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("invalid_request");
  });

  it("an unknown id, a credit and a refund are 404 'No such charge'", async () => {
    const credit = (await api(`/v1/accounts/${w.p.accountId}/transfers?limit=100`, { key: w.p.ownerKey })).body.data.find((t: any) => t.kind === "credit");
    const other = await exportedCharge(w);
    const rf = await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: other, amount: 1 } });
    for (const id of ["tr_doesnotexist000000000", credit.id, rf.body.id]) {
      const r = await unchanged(() => openDispute(w, { transfer_id: id, reason: "unauthorized" }));
      expect([r.status, r.body.code, r.body.detail]).toEqual([404, "not_found", "No such charge."]);
    }
  });

  it("another account's owner, a provider and an agent cannot open one", async () => {
    const stranger = await payer(10);
    for (const key of [stranger.ownerKey, w.prov.key, w.p.agentKey]) {
      const r = await unchanged(() => openDispute(w, { transfer_id: charge, reason: "unauthorized" }, key));
      expect([401, 404]).toContain(r.status);
    }
  });

  it("a charge refunded in full has nothing left to dispute (422)", async () => {
    const c = await exportedCharge(w);
    await api("/v1/refunds", { key: w.prov.key, body: { transfer_id: c } });
    const r = await unchanged(() => openDispute(w, { transfer_id: c, reason: "duplicate" }));
    expect([r.status, r.body.code]).toEqual([422, "nothing_to_dispute"]);
  });
});

describe("answering and deciding: only the right party, only while open", () => {
  it("another provider, the owner and an agent cannot answer; the provider cannot resolve", async () => {
    const d = await opened(w, await exportedCharge(w), "not_delivered");
    const other = await createProvider();
    expect((await unchanged(() => respond(d.id, other.key, { accept: true }))).status).toBe(404);
    expect((await unchanged(() => respond(d.id, w.p.ownerKey, { accept: true }))).status).toBe(403);
    expect([401, 403]).toContain((await unchanged(() => respond(d.id, w.p.agentKey, { accept: true }))).status);
    expect((await unchanged(() => resolve(d.id, "payer", w.prov.key))).status).toBe(403);
    expect((await unchanged(() => resolve(d.id, "payer", w.p.ownerKey))).status).toBe(403);
    expect((await api("/v1/disputes", { key: w.p.ownerKey })).status).toBe(403);
    // The other provider does not see it listed either.
    expect((await api("/v1/disputes?limit=100", { key: other.key })).body.data).toEqual([]);
  });

  it.each([
    ["contesting without evidence", { accept: false }],
    ["accept as a string", { accept: "yes" }],
    ["evidence beside an acceptance", { accept: true, evidence: "x" }],
    ["an empty body", {}],
  ])("%s is 400", async (_, body) => {
    const d = await opened(w, await exportedCharge(w), "defective");
    const r = await unchanged(() => respond(d.id, w.prov.key, body));
    expect([r.status, r.body.code]).toEqual([400, "invalid_request"]);
  });

  it("a winner that is neither side is 400; an unknown dispute is 404", async () => {
    const d = await opened(w, await exportedCharge(w), "defective");
    expect((await unchanged(() => resolve(d.id, "nobody"))).status).toBe(400);
    expect((await unchanged(() => resolve("dp_doesnotexist0000000", "payer"))).status).toBe(404);
    expect((await unchanged(() => respond("dp_doesnotexist0000000", w.prov.key, { accept: true }))).status).toBe(404);
  });

  it("a final dispute never changes again, and a contested one is not answered twice", async () => {
    const d = await opened(w, await exportedCharge(w), "defective");
    expect((await respond(d.id, w.prov.key, { accept: false, evidence: "logs attached" })).status).toBe(200);
    const twice = await unchanged(() => respond(d.id, w.prov.key, { accept: true }));
    expect([twice.status, twice.body.code]).toEqual([409, "conflict"]);
    expect((await resolve(d.id, "provider")).status).toBe(200);
    for (const step of [() => resolve(d.id, "payer"), () => respond(d.id, w.prov.key, { accept: true })]) {
      const r = await unchanged(step);
      expect([r.status, r.body.code, r.body.status]).toEqual([409, "dispute_closed", "won_by_provider"]);
    }
  });

  it("the operator may open on the owner's behalf and answer for the provider", async () => {
    const r = await openDispute(w, { transfer_id: await exportedCharge(w), reason: "duplicate" }, OPERATOR);
    expect(r.status).toBe(201);
    expect((await respond(r.body.id, OPERATOR, { accept: true })).body.status).toBe("accepted");
  });
});
