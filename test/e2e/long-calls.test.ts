/**
 * How long and cut-short calls end, over real HTTP (`wrangler dev` → the demo origin):
 * - a streamed answer three times longer than its hold's TTL is charged in full (the hold is
 *   extended while it streams);
 * - an idempotent metered call the client leaves mid-stream is charged for what it got, and its
 *   retry is a new call, not a free replay of the whole answer;
 * - an idempotent call whose origin breaks mid-stream frees its key (no 409 forever).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, type RunningOrigin } from "../../demo/origin.ts";
import { eventually, jsonClient, startGateway, type Gateway, type Json } from "./harness.ts";

let gw: Gateway;
let origin: RunningOrigin;
let api: ReturnType<typeof jsonClient>;
let slug: string;
let serviceId: string;

beforeAll(async () => {
  // Holds live the service's timeout (100 ms) + 1 s unless extended.
  [gw, origin] = await Promise.all([startGateway({ vars: { HOLD_TTL_SECONDS: "1", ALLOW_PRIVATE_ORIGINS: "true" } }), startOrigin(0)]);
  api = jsonClient(gw);
  const prov = await api("POST", "/v1/providers", gw.operatorToken, { name: "Long calls" });
  slug = `long-${Date.now().toString(36)}`;
  const svc = await api("POST", "/v1/services", prov.body.api_key, {
    slug,
    name: "Streams",
    origin: origin.url,
    timeout_ms: 100,
    prices: [{ meter: "bytes", rate: { amount: 1, per: 1 }, hold: 10_000 }],
  });
  expect(svc.status, JSON.stringify(svc.body)).toBe(201);
  serviceId = svc.body.id;
});

afterAll(async () => {
  await gw?.stop();
  await origin?.close();
});

/** A funded account and its agent key. */
async function payer(): Promise<{ accountId: string; agentKey: string }> {
  const acct = await api("POST", "/v1/accounts", gw.operatorToken, { name: "payer", currency: "USD" });
  await api("POST", `/v1/accounts/${acct.body.id}/credits`, gw.operatorToken, { amount: 100_000 });
  const key = await api("POST", `/v1/accounts/${acct.body.id}/agent-keys`, acct.body.owner_key, { name: "bot" });
  return { accountId: acct.body.id, agentKey: key.body.key };
}

const captures = async (accountId: string): Promise<Json[]> =>
  (await api("GET", `/v1/accounts/${accountId}/transfers`, gw.operatorToken)).body.data.filter((t: Json) => t.kind === "capture");

const agentCall = (agentKey: string, path: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${gw.url}/s/${slug}${path}`, { headers: { authorization: `Bearer ${agentKey}`, ...headers }, signal });

describe("end to end: calls that run long or end early", () => {
  it("a 3.3 s stream behind a 1.1 s hold is charged for every byte", async () => {
    const p = await payer();
    const res = await agentCall(p.agentKey, "/stream?chunks=14&ms=250");
    const text = await res.text();
    expect(text.split("\n").filter(Boolean)).toHaveLength(14);
    const bytes = Buffer.byteLength(text);
    const [capture] = await eventually(
      () => captures(p.accountId),
      (c) => expect(c).toHaveLength(1),
    );
    expect(capture).toMatchObject({ amount: bytes, reason: "origin_succeeded" });
    const balance = (await api("GET", `/v1/accounts/${p.accountId}/balance`, gw.operatorToken)).body;
    expect(balance).toMatchObject({ posted: 100_000 - bytes, pending: 0 });
    expect((await api("GET", `/v1/services/${serviceId}/uncollected`, gw.operatorToken)).body.data).toEqual([]);
  });

  it("an idempotent stream the client leaves is charged what it got; the retry is a new call, then the key replays it", async () => {
    const p = await payer();
    const headers = { "idempotency-key": "e2e-leave" };
    // 60 lines over 3 s: long enough for the client's going to reach the Worker through wrangler's proxy.
    const LEAVE_PATH = "/stream?chunks=60&ms=50";
    const abort = new AbortController();
    const first = await agentCall(p.agentKey, LEAVE_PATH, headers, abort.signal);
    const reader = first.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => undefined);
    const [partial] = await eventually(
      () => captures(p.accountId),
      (c) => expect(c).toHaveLength(1),
    );
    expect(partial.reason).toBe("client_disconnected");

    const retry = await eventually(
      () => agentCall(p.agentKey, LEAVE_PATH, headers),
      (r) => expect(r.status).toBe(200),
    );
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    const whole = await retry.text();
    expect(whole.split("\n").filter(Boolean)).toHaveLength(60);
    expect(partial.amount).toBeLessThan(Buffer.byteLength(whole));
    await eventually(
      () => captures(p.accountId),
      (c) => expect(c).toHaveLength(2),
    );

    const replay = await agentCall(p.agentKey, LEAVE_PATH, headers);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.text()).toBe(whole);
    expect(await captures(p.accountId)).toHaveLength(2);
  });

  it("an idempotent call whose origin breaks mid-stream frees its key for a real retry", async () => {
    const p = await payer();
    const headers = { "idempotency-key": "e2e-break" };
    await (await agentCall(p.agentKey, "/stream?chunks=10&ms=20&fail=4", headers)).text().catch(() => "");
    await eventually(
      () => captures(p.accountId),
      (c) => expect(c).toMatchObject([{ reason: "origin_failed" }]),
    );
    const retry = await agentCall(p.agentKey, "/stream?chunks=10&ms=20&fail=4", headers);
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    await retry.text().catch(() => "");
    await eventually(
      () => captures(p.accountId),
      (c) => expect(c).toHaveLength(2),
    );
  });
});
