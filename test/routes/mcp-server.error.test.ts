/**
 * The payment MCP server's refusals: a refused payment is a tool result with isError and its
 * machine-readable reason, and moves no money; bad input is an MCP error; only a valid agent key
 * reaches the server at all (401 problem+json before any MCP).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  balance,
  boundKey,
  call,
  expectProblem,
  flip,
  postMandate,
  providerServicePayer,
  settledBalance,
  transfers,
  type Payer,
  type ServiceRef,
} from "./helpers";
import { MCP_HEADERS, mcp, mcpCall, tool, toolRefused } from "./mcp-helpers";

const hourFromNow = () => new Date(Date.now() + 3_600_000).toISOString();

let svc: ServiceRef;
let p: Payer;
let poor: Payer;
let planId: string;
beforeAll(async () => {
  const world = await providerServicePayer({ prices: [{ per_call: 1_000 }], plans: [{ name: "big", price: 50_000, calls: 10 }] }, 100_000);
  svc = world.svc;
  p = world.p;
  planId = (await api(`/v1/services/${svc.id}/pricing`)).body.plans[0].id;
  const other = await providerServicePayer({}, 2_500);
  poor = other.p;
});

/** What a refusal must leave unchanged: the balance and the journal. */
async function moneyOf(payer: Payer) {
  return { balance: await settledBalance(payer.accountId), journal: await transfers(payer.accountId, "?limit=100") };
}

describe("refused payments: isError with the reason, nothing charged", () => {
  it("call_service with too little balance: insufficient_funds with price, available and currency", async () => {
    await tool(poor.agentKey, "call_service", { slug: svc.slug, method: "GET", path: "/echo" });
    await tool(poor.agentKey, "call_service", { slug: svc.slug, method: "GET", path: "/echo" });
    const before = await moneyOf(poor);
    expect(before.balance.available).toBe(500);
    const reason = await toolRefused(poor.agentKey, "call_service", { slug: svc.slug, method: "GET", path: "/echo" }, "insufficient_funds");
    expect(reason).toMatchObject({ status: 402, price: 1_000, available: 500, currency: "USD" });
    expect(await moneyOf(poor)).toEqual(before);
  });

  it("concurrent calls past the balance: exactly what the balance covers is served, the rest refused as insufficient_funds", async () => {
    const world = await providerServicePayer({ prices: [{ per_call: 1_000 }] }, 3_000);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => tool(world.p.agentKey, "call_service", { slug: world.svc.slug, method: "GET", path: "/echo" })),
    );
    const served = results.filter((r) => !r.isError);
    expect(served).toHaveLength(3);
    for (const r of results.filter((x) => x.isError)) expect(r.structuredContent.code).toBe("insufficient_funds");
    expect(await settledBalance(world.p.accountId)).toMatchObject({ available: 0, pending: 0, posted: 0 });
  });

  it("buy_pass with too little balance: insufficient_funds with the plan's price", async () => {
    const before = await moneyOf(poor);
    const reason = await toolRefused(poor.agentKey, "buy_pass", { plan_id: planId }, "insufficient_funds");
    expect(reason).toMatchObject({ price: 50_000, available: 500, currency: "USD" });
    expect(await moneyOf(poor)).toEqual(before);
  });

  it("a mandate's refusal names its code and the mandate: per call, and tips it forbids", async () => {
    const m = await postMandate(p.accountId, p.ownerKey, {
      intent: "cheap only",
      max_total: 10_000,
      max_per_call: 500,
      max_tip: 0,
      valid_until: hourFromNow(),
    });
    const key = (await boundKey(p.accountId, p.ownerKey, m.id)).key;
    const before = await moneyOf(p);
    const call = await toolRefused(key, "call_service", { slug: svc.slug, method: "GET", path: "/echo" }, "mandate_per_call_exceeded");
    expect(call).toMatchObject({ status: 403, mandate_id: m.id });
    const tip = await toolRefused(key, "send_tip", { service_id: svc.id, amount: 100 }, "mandate_tip_not_allowed");
    expect(tip.mandate_id).toBe(m.id);
    expect(await moneyOf(p)).toEqual(before);
  });

  it("a slug no service has: unknown_service", async () => {
    await toolRefused(p.agentKey, "call_service", { slug: "no-such-service-here", method: "GET", path: "/" }, "unknown_service");
  });

  it("a path that climbs out of the service is refused before any call", async () => {
    const before = await moneyOf(p);
    await toolRefused(p.agentKey, "call_service", { slug: svc.slug, method: "GET", path: "/../../v1/me" }, "invalid_request");
    expect(await moneyOf(p)).toEqual(before);
  });

  it("get_pricing with neither or both of service_id and slug, or an unknown id", async () => {
    await toolRefused(p.agentKey, "get_pricing", {}, "invalid_request");
    await toolRefused(p.agentKey, "get_pricing", { service_id: svc.id, slug: svc.slug }, "invalid_request");
    await toolRefused(p.agentKey, "get_pricing", { service_id: "svc_00000000000000000000" }, "not_found");
  });

  it("a tip to a service that does not exist, and a cursor the API never returned", async () => {
    await toolRefused(p.agentKey, "send_tip", { service_id: "svc_00000000000000000000", amount: 1 }, "not_found");
    await toolRefused(p.agentKey, "list_transfers", { cursor: "bm9wZQ" }, "invalid_request");
  });
});

describe("bad input", () => {
  it("arguments that fail a tool's input schema: an MCP error naming the problem; no money moves", async () => {
    const before = await balance(p.accountId);
    for (const args of [
      { service_id: svc.id, amount: -5 },
      { service_id: svc.id, amount: 1.5 },
      { service_id: svc.id },
      { service_id: svc.id, amount: 1, extra: "x" },
    ]) {
      const result = await tool(p.agentKey, "send_tip", args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(result.content[0].text).toMatch(/Input validation error/);
    }
    const bad = await tool(p.agentKey, "call_service", { slug: svc.slug, method: "TRACE", path: "/echo" });
    expect(bad.isError).toBe(true);
    expect(bad.content[0].text).toMatch(/Input validation error/);
    expect(await balance(p.accountId)).toEqual(before);
  });

  it("an unknown tool and an unknown method: MCP errors", async () => {
    const unknownTool = await tool(p.agentKey, "raise_my_limits", {});
    expect(unknownTool.isError).toBe(true);
    expect(unknownTool.content[0].text).toMatch(/not found/);
    const unknownMethod = await mcp(p.agentKey, "limits/raise");
    expect(unknownMethod.error.code).toBe(-32601);
  });

  it("a body that is not JSON: a JSON-RPC parse error (-32700); not JSON-RPC: a JSON-RPC error too", async () => {
    const parse = await call("/mcp", { key: p.agentKey, method: "POST", headers: { ...MCP_HEADERS, "content-type": "application/json" }, body: "{nope" });
    expect(parse.status).toBe(400);
    expect((await parse.json<any>()).error.code).toBe(-32700);
    const invalid = await call("/mcp", { key: p.agentKey, method: "POST", headers: MCP_HEADERS, body: { hello: "world" } });
    expect(invalid.status).toBe(400);
    // The SDK answers a message that is not JSON-RPC as it answers unparsable JSON.
    expect([-32600, -32700]).toContain((await invalid.json<any>()).error.code);
  });

  it("without Accept for JSON and event streams: 406", async () => {
    const r = await mcpCall(p.agentKey, "tools/list", {}, { accept: "text/html" });
    expect(r.status).toBe(406);
    await r.body?.cancel();
  });
});

describe("who reaches the server", () => {
  it("no key, a garbage key, an agent key with a changed secret: 401 problem+json, no MCP answer", async () => {
    await expectProblem(await mcpCall(null, "tools/list"), 401, "unauthorized");
    await expectProblem(await mcpCall("not-a-key", "tools/list"), 401, "invalid_key");
    await expectProblem(await mcpCall(flip(p.agentKey), "tools/list"), 401, "invalid_key");
  });

  it("the owner's key is not an agent key: 401 (the server acts only with an agent's rights)", async () => {
    await expectProblem(await mcpCall(p.ownerKey, "tools/list"), 401, "invalid_key");
  });

  it("a revoked agent key: 401", async () => {
    const k = await api(`/v1/accounts/${p.accountId}/agent-keys`, { key: p.ownerKey, body: { name: "short-lived" } });
    expect((await mcp(k.body.key, "tools/list")).result.tools.length).toBe(7);
    const revoked = await api(`/v1/accounts/${p.accountId}/agent-keys/${k.body.id}`, { key: p.ownerKey, method: "DELETE" });
    expect(revoked.status).toBeLessThan(300);
    await expectProblem(await mcpCall(k.body.key, "tools/list"), 401, "invalid_key");
  });

  it("GET and DELETE: 405 (stateless: no stream to open, no session to end)", async () => {
    for (const method of ["GET", "DELETE"]) {
      const r = await call("/mcp", { key: p.agentKey, method, headers: { accept: "text/event-stream" } });
      expect(r.status, method).toBe(405);
      expect(r.headers.get("allow")).toBe("POST");
      await r.body?.cancel();
    }
  });
});
