import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, originUrl, payer, settledBalance, transfers, unique, type Payer, type Provider } from "./helpers";
import { exportNow } from "./ledger-helpers";

// A service's SLA: a call whose origin answered (its headers) slower than max_latency_ms is refunded
// in full as its capture lands. The demo origin's /slow?ms=N answers after N ms; /echo at once;
// /stream sends its headers at once and its events slowly.
const SLA_MS = 250;
const SLOW = `/slow?ms=${SLA_MS + 350}`;
const PER_CALL = 1_000;

let prov: Provider;
beforeAll(async () => {
  prov = await createProvider();
});

/** A service of `prov` (created by the operator, with a 10% fee) with this SLA. */
async function slaService(sla: unknown, prices: unknown[] = [{ per_call: PER_CALL }]): Promise<{ id: string; slug: string }> {
  const body = { slug: unique("sla"), name: "SLA service", origin: originUrl(), prices, provider_id: prov.id, fee_bps: 1_000, sla };
  const r = await api("/v1/services", { key: OPERATOR, body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

async function proxied(slug: string, p: Payer, path: string): Promise<Response> {
  const res = await call(`/s/${slug}${path}`, { key: p.agentKey });
  expect(res.status, await res.clone().text()).toBe(200);
  await res.text();
  return res;
}

/** The account's journal, oldest first, once its captures have landed and been exported. */
async function settledJournal(p: Payer): Promise<any[]> {
  await exportNow(p.accountId);
  return (await transfers(p.accountId, "?limit=100")).slice().reverse();
}

async function reconcileClean(accountId: string): Promise<void> {
  const r = await api(`/v1/reconciliation?account_id=${accountId}`, { key: OPERATOR });
  expect(r.status).toBe(200);
  expect(r.body, JSON.stringify(r.body.discrepancies)).toMatchObject({ ok: true, discrepancies: [], not_yet_exported: 0 });
}

describe("automatic refunds by outcome (SLA)", () => {
  it("a slow call is charged, then refunded in full: both sides see it, the audit trail names the system, the reconciler is clean", async () => {
    const svc = await slaService({ max_latency_ms: SLA_MS, refund: "full" });
    const p = await payer(100_000);
    const res = await proxied(svc.slug, p, SLOW);
    expect([res.headers.get("tollgate-charge"), res.headers.get("tollgate-refund"), res.headers.get("tollgate-balance")]).toEqual([
      String(PER_CALL),
      "sla_breach",
      "100000",
    ]);
    const requestId = res.headers.get("tollgate-request-id");

    const journal = await settledJournal(p);
    expect(journal.map((t) => [t.kind, t.amount, t.fee, t.reason])).toEqual([
      ["credit", 100_000, 0, null],
      ["capture", PER_CALL, 100, "origin_succeeded"],
      ["refund", PER_CALL, 100, "sla_breach"],
    ]);
    const [, capture, refund] = journal;
    expect(refund).toMatchObject({ id: expect.stringMatching(/^rf_/), refund_of: capture.id, request_id: requestId, service_id: svc.id });
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 100_000, pending: 0 });

    // The provider sees it in its refunds and in its service's transfers.
    const refunds = await api("/v1/refunds?limit=100", { key: prov.key });
    expect(refunds.status).toBe(200);
    expect(refunds.body.data.filter((r: any) => r.transfer_id === capture.id)).toEqual([
      expect.objectContaining({ id: refund.id, amount: PER_CALL, fee: 100, reason: "sla_breach", account_id: p.accountId }),
    ]);
    const svcTransfers = await api(`/v1/services/${svc.id}/transfers?limit=100`, { key: prov.key });
    // Capture and refund share their instant; the listing orders them by id then.
    expect(svcTransfers.body.data.map((t: any) => [t.kind, t.amount, t.reason]).sort()).toEqual([
      ["capture", PER_CALL, "origin_succeeded"],
      ["refund", PER_CALL, "sla_breach"],
    ]);

    const audit = await api(`/v1/accounts/${p.accountId}/audit?limit=100`, { key: OPERATOR });
    expect(audit.body.data.filter((e: any) => e.event === "refund")).toEqual([
      expect.objectContaining({ actor: "system", amount: PER_CALL, request_id: requestId, reason: `${capture.id}: sla_breach` }),
    ]);

    // Nothing is left to refund by hand.
    const more = await api("/v1/refunds", { key: prov.key, body: { transfer_id: capture.id, amount: 1 } });
    expect([more.status, more.body.code, more.body.refundable]).toEqual([422, "refund_exceeds_charge", 0]);
    await reconcileClean(p.accountId);
  });

  it("a fast call is charged and not refunded", async () => {
    const svc = await slaService({ max_latency_ms: SLA_MS, refund: "full" });
    const p = await payer(100_000);
    const res = await proxied(svc.slug, p, "/echo");
    expect([res.headers.get("tollgate-charge"), res.headers.get("tollgate-refund")]).toEqual([String(PER_CALL), null]);
    expect((await settledJournal(p)).map((t) => t.kind)).toEqual(["credit", "capture"]);
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 100_000 - PER_CALL });
    await reconcileClean(p.accountId);
  });

  it('refund "none": a slow call is charged as without an SLA, and nothing records the breach', async () => {
    const svc = await slaService({ max_latency_ms: SLA_MS, refund: "none" });
    const p = await payer(100_000);
    const res = await proxied(svc.slug, p, SLOW);
    expect([res.headers.get("tollgate-charge"), res.headers.get("tollgate-refund")]).toEqual([String(PER_CALL), null]);
    const journal = await settledJournal(p);
    expect(journal.map((t) => [t.kind, t.reason])).toEqual([
      ["credit", null],
      ["capture", "origin_succeeded"],
    ]);
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 100_000 - PER_CALL });
  });

  it("a stream is judged by its headers: a long stream whose headers came fast is not refunded; slow headers are, for what it streamed", async () => {
    const bytes = { meter: "bytes", rate: { amount: 1, per: 1 }, hold: 10_000 };
    const svc = await slaService({ max_latency_ms: SLA_MS, refund: "full" }, [bytes]);
    const p = await payer(100_000);
    const long = await proxied(svc.slug, p, `/stream?chunks=4&ms=${SLA_MS}`);
    expect(long.headers.get("tollgate-refund")).toBeNull();
    const slow = await proxied(svc.slug, p, SLOW);
    expect(slow.headers.get("tollgate-refund")).toBe("sla_breach");
    const journal = await settledJournal(p);
    expect(journal.map((t) => t.kind)).toEqual(["credit", "capture", "capture", "refund"]);
    const [, streamed, slowCapture, refund] = journal;
    expect(streamed.amount).toBeGreaterThan(0);
    expect([refund.refund_of, refund.amount]).toEqual([slowCapture.id, slowCapture.amount]);
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 100_000 - streamed.amount });
    await reconcileClean(p.accountId);
  });

  it("a call the origin fails costs nothing and is not refunded; a deferred call is not refunded", async () => {
    const deferred = { meter: "units", rate: { amount: 10, per: 1 }, hold: 5_000, deferred: true };
    const svc = await slaService({ max_latency_ms: SLA_MS, refund: "full" }, [{ match: { path: "/slow" }, ...deferred }, { per_call: PER_CALL }]);
    const p = await payer(100_000);
    const failed = await call(`/s/${svc.slug}/status/503`, { key: p.agentKey });
    expect([failed.status, failed.headers.get("tollgate-refund")]).toEqual([502, null]);
    await failed.text();
    const slowDeferred = await proxied(svc.slug, p, SLOW);
    expect(slowDeferred.headers.get("tollgate-refund")).toBeNull();
    const usage = await api("/v1/usage", { key: prov.key, body: { request_id: slowDeferred.headers.get("tollgate-request-id"), units: 3 } });
    expect(usage.status, JSON.stringify(usage.body)).toBe(201);
    expect((await settledJournal(p)).map((t) => [t.kind, t.amount])).toEqual([
      ["credit", 100_000],
      ["capture", 30],
    ]);
    await reconcileClean(p.accountId);
  });

  it("an idempotent slow call is refunded once; its replay says so and moves no money", async () => {
    const svc = await slaService({ max_latency_ms: SLA_MS, refund: "full" });
    const p = await payer(100_000);
    const keyed = { key: p.agentKey, headers: { "idempotency-key": unique("idem") } };
    const first = await call(`/s/${svc.slug}${SLOW}`, keyed);
    expect([first.status, first.headers.get("tollgate-refund")]).toEqual([200, "sla_breach"]);
    const body = await first.text();
    // The capture that ends the key is sent at once; a retry may meet it in flight (409) first.
    let again = await call(`/s/${svc.slug}${SLOW}`, keyed);
    for (let i = 0; again.status === 409 && i < 50; i++) {
      await again.text();
      await new Promise((r) => setTimeout(r, 50));
      again = await call(`/s/${svc.slug}${SLOW}`, keyed);
    }
    expect([again.status, again.headers.get("idempotent-replayed"), again.headers.get("tollgate-refund"), await again.text()]).toEqual([
      200,
      "true",
      "sla_breach",
      body,
    ]);
    expect((await settledJournal(p)).map((t) => [t.kind, t.amount])).toEqual([
      ["credit", 100_000],
      ["capture", PER_CALL],
      ["refund", PER_CALL],
    ]);
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 100_000, pending: 0 });
    await reconcileClean(p.accountId);
  });

  it("race: concurrent slow calls of one payer are each refunded exactly once", async () => {
    const svc = await slaService({ max_latency_ms: SLA_MS, refund: "full" });
    const p = await payer(100_000);
    const n = 8;
    const responses = await Promise.all(Array.from({ length: n }, () => proxied(svc.slug, p, SLOW)));
    expect(responses.map((r) => r.headers.get("tollgate-refund"))).toEqual(Array(n).fill("sla_breach"));
    const journal = await settledJournal(p);
    const captures = journal.filter((t) => t.kind === "capture");
    const refunds = journal.filter((t) => t.kind === "refund");
    expect([captures.length, refunds.length]).toEqual([n, n]);
    expect(new Set(refunds.map((r) => r.refund_of))).toEqual(new Set(captures.map((c) => c.id)));
    for (const r of refunds) expect([r.amount, r.fee, r.reason]).toEqual([PER_CALL, 100, "sla_breach"]);
    expect(await settledBalance(p.accountId)).toEqual({ currency: "USD", posted: 100_000, pending: 0, available: 100_000 });
    await reconcileClean(p.accountId);
  });
});
