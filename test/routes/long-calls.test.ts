import { describe, expect, it } from "vitest";
import { hashKey } from "../../worker/auth/keys";
import { requestIdFor } from "../../core/ids";
import { ledgerFor } from "../../worker/account-client/stub";
import { testEnv } from "./ledger-helpers";
import { api, balance, callWithEnv, createProvider, createService, payer, settledBalance, transfers } from "./helpers";

// A hold must outlive the response it pays for (I10 with extension): a streamed answer longer
// than the hold's TTL is still charged, and a capture that arrives after its hold expired is
// visible to the provider, never only a log line.

/** Holds live timeout_ms + 1 s here (1.1 s with the service below) unless the stream extends them. */
const SHORT_HOLDS = { HOLD_TTL_SECONDS: "1" };
const BYTES = { meter: "bytes", rate: { amount: 1, per: 1 }, hold: 10_000 };

describe("a stream that runs longer than its hold's TTL", () => {
  it("is charged for all it delivered: the hold is extended while it streams", async () => {
    const prov = await createProvider();
    const svc = await createService(prov.key, { timeout_ms: 100, prices: [BYTES] });
    const p = await payer(100_000);
    // 14 lines, 250 ms apart: about 3.3 s, three times the hold's 1.1 s.
    const { response, finished } = callWithEnv(SHORT_HOLDS, `/s/${svc.slug}/stream?chunks=14&ms=250`, { key: p.agentKey });
    const res = await response;
    expect(res.status).toBe(200);
    const text = await res.text();
    await finished();
    expect(text.split("\n").filter(Boolean)).toHaveLength(14);
    const bytes = new TextEncoder().encode(text).byteLength;

    expect(await settledBalance(p.accountId)).toEqual({ currency: "USD", posted: 100_000 - bytes, pending: 0, available: 100_000 - bytes });
    const [capture] = (await transfers(p.accountId)).filter((t) => t.kind === "capture");
    expect(capture).toMatchObject({ amount: bytes, reason: "origin_succeeded", usage: { bytes } });
  });
});

describe("a capture that arrives after its hold expired", () => {
  it("charges nothing and is listed for the service's provider (once), with what it would have cost", async () => {
    const prov = await createProvider();
    const svc = await createService(prov.key, { prices: [{ per_call: 700 }] });
    const p = await payer(10_000);
    // A reserve as the proxy makes it, with a hold that expires at once (a Worker that could not
    // settle in time), then the capture, twice (a resend).
    const ledger = ledgerFor(testEnv, p.accountId);
    const requestId = requestIdFor(p.accountId);
    const reserved = await ledger.reserve({
      keyHash: await hashKey(p.agentKey),
      requestId,
      serviceId: svc.id,
      providerId: prov.id,
      feeBps: 0,
      amount: 700,
      currency: "USD",
      ttlMs: 1,
      serviceSlug: svc.slug,
    });
    if (!reserved.ok) throw new Error(JSON.stringify(reserved));
    await new Promise((r) => setTimeout(r, 20));
    expect(await ledger.capture({ holdId: reserved.hold_id, amount: 700 })).toEqual({ ok: false, code: "hold_not_pending", state: "expired" });
    expect(await ledger.settle([{ holdId: reserved.hold_id, amount: 700, detail: {} }])).toMatchObject([{ ok: false }]);
    expect(await balance(p.accountId)).toMatchObject({ posted: 10_000, pending: 0 });

    // The ledger's audit trail reaches D1 within about a second; the provider reads it there.
    let listed: any;
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      listed = await api(`/v1/services/${svc.id}/uncollected`, { key: prov.key });
      if (listed.body?.data?.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      data: [
        {
          request_id: requestId,
          account_id: p.accountId,
          agent_key_id: p.agentKeyId,
          amount: 700,
          currency: "USD",
          reason: "hold_expired",
          at: expect.any(String),
        },
      ],
      next_cursor: null,
    });
    // Another provider's service list is its own: this one shows nothing there.
    const other = await createProvider();
    const otherSvc = await createService(other.key);
    expect((await api(`/v1/services/${otherSvc.id}/uncollected`, { key: other.key })).body.data).toEqual([]);
  });
});
