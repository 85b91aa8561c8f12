import { describe, expect, it } from "vitest";
import { call, createProvider, createService, payer, settledBalance, transfers } from "./helpers";

// How an idempotent proxied call's key ends (I12): a replay is exactly what was charged for, and
// every key reaches a final state — replayable, or freed for a real retry — never 409 forever.

const BYTES = { meter: "bytes", rate: { amount: 1, per: 1 }, hold: 10_000 };

async function setup(prices: unknown[]) {
  const prov = await createProvider();
  const svc = await createService(prov.key, { prices });
  return { svc, p: await payer(100_000) };
}

const captures = async (accountId: string) => (await transfers(accountId)).filter((t) => t.kind === "capture");

/** Waits until the account has `n` captures (settlement runs after the response). */
async function capturesOf(accountId: string, n: number): Promise<any[]> {
  for (const deadline = Date.now() + 5_000; ; ) {
    const found = await captures(accountId);
    if (found.length >= n || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a metered stream with an Idempotency-Key", () => {
  it("a client that leaves mid-stream pays for what it got, and its retry is a new call, not a free replay of the whole answer", async () => {
    const { svc, p } = await setup([BYTES]);
    const path = `/s/${svc.slug}/stream?chunks=20&ms=40`;
    const headers = { "idempotency-key": "leave-early" };
    const first = await call(path, { key: p.agentKey, headers });
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    const { value } = await reader.read();
    const got = new TextDecoder().decode(value);
    expect(got).toContain("chunk 0");
    await reader.cancel();
    const [partial] = await capturesOf(p.accountId, 1);
    expect(partial).toMatchObject({ reason: "client_disconnected" });
    // Charged for what was delivered before it left: well under the whole answer (20 events, 310 bytes).
    expect(partial.amount).toBeLessThan(310);
    await settledBalance(p.accountId);

    const retry = await call(path, { key: p.agentKey, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    const whole = await retry.text();
    expect(whole.split("\n").filter(Boolean)).toHaveLength(20);
    expect(new TextEncoder().encode(whole).byteLength).toBe(310);
    const [second] = (await capturesOf(p.accountId, 2)).filter((t) => t.id !== partial.id);
    expect(second).toMatchObject({ reason: "origin_succeeded", amount: 310 });
    expect(await settledBalance(p.accountId)).toMatchObject({ posted: 100_000 - partial.amount - 310, pending: 0 });

    // That complete call is the key's final answer now: replayed as charged, not charged again.
    const replay = await call(path, { key: p.agentKey, headers });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("tollgate-charge")).toBe("310");
    expect(await replay.text()).toBe(whole);
    expect(await captures(p.accountId)).toHaveLength(2);
  });

  it("an origin that breaks mid-stream (charged what it delivered) frees the key instead of leaving it at 409", async () => {
    const { svc, p } = await setup([BYTES]);
    const headers = { "idempotency-key": "origin-breaks" };
    const broken = await call(`/s/${svc.slug}/stream?chunks=10&ms=20&fail=4`, { key: p.agentKey, headers });
    expect(broken.status).toBe(200);
    await broken.text().catch(() => "");
    const [charged] = await capturesOf(p.accountId, 1);
    // Charged for the lines that got through before the break (at most 4 of 10 events, 15 bytes each).
    expect(charged).toMatchObject({ reason: "origin_failed" });
    expect(charged.amount).toBeGreaterThan(0);
    expect(charged.amount).toBeLessThanOrEqual(60);
    await settledBalance(p.accountId);

    // The same call again: a real retry (forwarded and charged), not idempotency_in_flight.
    const retry = await call(`/s/${svc.slug}/stream?chunks=10&ms=20&fail=4`, { key: p.agentKey, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    await retry.text().catch(() => "");
    expect(await capturesOf(p.accountId, 2)).toHaveLength(2);
  });
});

describe("a per-call price with an Idempotency-Key", () => {
  it("a client that leaves early still gets the whole answer on retry: the charge never depended on delivery", async () => {
    const { svc, p } = await setup([{ per_call: 900 }]);
    const path = `/s/${svc.slug}/stream?chunks=10&ms=30`;
    const headers = { "idempotency-key": "per-call-leave" };
    const first = await call(path, { key: p.agentKey, headers });
    expect(first.headers.get("tollgate-charge")).toBe("900");
    const reader = first.body!.getReader();
    await reader.read();
    await reader.cancel();
    await capturesOf(p.accountId, 1);
    let replay: Response;
    for (const deadline = Date.now() + 5_000; ; ) {
      replay = await call(path, { key: p.agentKey, headers });
      if (replay.status !== 409 || Date.now() > deadline) break;
      await replay.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await replay.text()).split("\n").filter(Boolean)).toHaveLength(10);
    expect(await captures(p.accountId)).toMatchObject([{ amount: 900 }]);
  });
});
