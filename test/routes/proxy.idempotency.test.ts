import { describe, expect, it } from "vitest";
import { api, balance, call, createProvider, createService, expectProblem, payer, settledBalance, transfers } from "./helpers";

// Proxied calls with Idempotency-Key (I3, I12): a retry is not charged twice and gets the
// first call's outcome; another call under the same key is refused; a failed first call frees it.

async function setup(prices: unknown[] = [{ per_call: 500 }], funds = 10_000) {
  const prov = await createProvider();
  const svc = await createService(prov.key, { prices });
  return { svc, p: await payer(funds) };
}

describe("idempotent proxied calls", () => {
  it("a retry with the same key and call replays the first response and charges once", async () => {
    const { svc, p } = await setup();
    const send = () => call(`/s/${svc.slug}/echo/once?q=1`, { key: p.agentKey, body: { text: "hi" }, headers: { "idempotency-key": "retry-1" } });
    const first = await send();
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    expect(first.headers.get("tollgate-charge")).toBe("500");
    await settledBalance(p.accountId);

    const again = await send();
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("tollgate-request-id")).toBe(first.headers.get("tollgate-request-id"));
    expect(again.headers.get("tollgate-charge")).toBe("500");
    expect(await again.text()).toBe(firstBody);
    expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 9_500, pending: 0, available: 9_500 });
    expect((await transfers(p.accountId)).filter((t) => t.kind === "capture")).toHaveLength(1);
  });

  it("the same key with another call is 422 and changes nothing", async () => {
    const { svc, p } = await setup();
    const first = await call(`/s/${svc.slug}/echo/a`, { key: p.agentKey, body: { n: 1 }, headers: { "idempotency-key": "k" } });
    await first.body?.cancel();
    await settledBalance(p.accountId);
    const other = await call(`/s/${svc.slug}/echo/a`, { key: p.agentKey, body: { n: 2 }, headers: { "idempotency-key": "k" } });
    await expectProblem(other, 422, "idempotency_mismatch");
    expect(await balance(p.accountId)).toMatchObject({ posted: 9_500, pending: 0 });
  });

  it("a repeat while the first is still running is 409, and only one call is charged", async () => {
    const { svc, p } = await setup([{ per_call: 700 }]);
    const slow = call(`/s/${svc.slug}/slow?ms=400`, { key: p.agentKey, headers: { "idempotency-key": "slow-1" } });
    await new Promise((r) => setTimeout(r, 100));
    const repeat = await call(`/s/${svc.slug}/slow?ms=400`, { key: p.agentKey, headers: { "idempotency-key": "slow-1" } });
    await expectProblem(repeat, 409, "idempotency_in_flight");
    const done = await slow;
    expect(done.status).toBe(200);
    await done.body?.cancel();
    expect(await settledBalance(p.accountId)).toEqual({ currency: "USD", posted: 9_300, pending: 0, available: 9_300 });
  });

  it("N identical retries at once: one charge, the rest replay or are told to wait", async () => {
    const { svc, p } = await setup([{ per_call: 100 }], 1_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { "idempotency-key": "burst" } })),
    );
    const statuses = results.map((r) => r.status);
    for (const r of results) await r.body?.cancel();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    await settledBalance(p.accountId);
    expect((await transfers(p.accountId)).filter((t) => t.kind === "capture")).toHaveLength(1);
    expect(await balance(p.accountId)).toMatchObject({ posted: 900, pending: 0 });
  });

  it("a first call that failed (origin 5xx) costs nothing and frees the key for a real retry", async () => {
    const { svc, p } = await setup([{ per_call: 300 }]);
    const failed = await call(`/s/${svc.slug}/status/503`, { key: p.agentKey, headers: { "idempotency-key": "after-failure" } });
    await expectProblem(failed, 502, "origin_error");
    await settledBalance(p.accountId);
    const retry = await call(`/s/${svc.slug}/status/503`, { key: p.agentKey, headers: { "idempotency-key": "after-failure" } });
    expect(retry.status).toBe(502);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    await retry.body?.cancel();
    expect(await settledBalance(p.accountId)).toEqual({ currency: "USD", posted: 10_000, pending: 0, available: 10_000 });
  });

  it("keys are per agent key: another key of the same account is a separate call", async () => {
    const { svc, p } = await setup([{ per_call: 50 }]);
    const second = await api(`/v1/accounts/${p.accountId}/agent-keys`, { key: p.ownerKey, body: { name: "second" } });
    for (const key of [p.agentKey, second.body.key]) {
      const res = await call(`/s/${svc.slug}/echo`, { key, headers: { "idempotency-key": "shared-name" } });
      expect(res.headers.get("idempotent-replayed")).toBeNull();
      await res.body?.cancel();
    }
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 9_900 });
  });

  it("a malformed Idempotency-Key is 400 before anything is held", async () => {
    const { svc, p } = await setup();
    await expectProblem(await call(`/s/${svc.slug}/echo`, { key: p.agentKey, headers: { "idempotency-key": "x".repeat(256) } }), 400, "invalid_request");
    expect(await balance(p.accountId)).toMatchObject({ posted: 10_000, pending: 0 });
  });
});
