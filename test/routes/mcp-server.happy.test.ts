/**
 * The payment MCP server (/mcp), spoken to as JSON-RPC over Streamable HTTP: the handshake, the
 * tool list with its schemas, and each tool doing what the HTTP API does with the same key.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  OPERATOR,
  api,
  balance,
  boundKey,
  postMandate,
  providerServicePayer,
  settledBalance,
  transfers,
  type Payer,
  type Provider,
  type ServiceRef,
} from "./helpers";
import { mcp, toolOk } from "./mcp-helpers";

const TOOLS = ["get_balance", "list_services", "get_pricing", "call_service", "list_transfers", "buy_pass", "send_tip"];
const hourFromNow = () => new Date(Date.now() + 3_600_000).toISOString();

let prov: Provider;
let svc: ServiceRef & { origin: string };
let planId: string;
let p: Payer;
beforeAll(async () => {
  const world = await providerServicePayer({ prices: [{ per_call: 1_000 }], plans: [{ name: "ten", price: 5_000, calls: 10 }] }, 100_000);
  prov = world.prov;
  p = world.p;
  svc = (await api(`/v1/services/${world.svc.id}`, { key: prov.key })).body;
  planId = (await api(`/v1/services/${world.svc.id}`, { key: prov.key })).body.plans[0].id;
});

describe("handshake", () => {
  it("initialize: the server names itself, offers tools and explains micro-units; no session id (stateless)", async () => {
    const r = await api("/mcp", {
      key: p.agentKey,
      method: "POST",
      headers: { accept: "application/json, text/event-stream" },
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } },
      },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("mcp-session-id")).toBeNull();
    expect(r.body).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      result: { protocolVersion: "2025-06-18", serverInfo: { name: "tollgate" }, capabilities: { tools: {} } },
    });
    expect(r.body.result.instructions).toContain("micro-units");
  });

  it("tools/list: the seven tools, each with an input schema and an output schema", async () => {
    const { result } = await mcp(p.agentKey, "tools/list");
    expect(result.tools.map((t: { name: string }) => t.name)).toEqual(TOOLS);
    for (const t of result.tools) {
      expect(t.inputSchema.type, t.name).toBe("object");
      expect(t.outputSchema.type, t.name).toBe("object");
      expect(t.outputSchema.properties.code, t.name).toBeDefined();
    }
    const call = result.tools.find((t: { name: string }) => t.name === "call_service");
    expect(call.inputSchema.required.sort()).toEqual(["method", "path", "slug"]);
    expect(Object.keys(call.inputSchema.properties).sort()).toEqual(["body", "headers", "idempotency_key", "method", "path", "slug"]);
    expect(call.outputSchema.properties.charge).toBeDefined();
    const tip = result.tools.find((t: { name: string }) => t.name === "send_tip");
    expect(tip.inputSchema.required.sort()).toEqual(["amount", "service_id"]);
  });
});

describe("get_balance", () => {
  it("without a mandate: the balance as GET /v1/me shows it, and can_spend is the available balance", async () => {
    const me = await api("/v1/me", { key: p.agentKey });
    const out = await toolOk(p.agentKey, "get_balance");
    expect(out).toEqual({ account_id: p.accountId, key_id: p.agentKeyId, balance: me.body.balance, mandate: null, can_spend: me.body.balance.available });
  });

  it("with a mandate: what is left of it in total and today, after a paid call", async () => {
    const world = await providerServicePayer({ prices: [{ per_call: 700 }] }, 50_000);
    const m = await postMandate(world.p.accountId, world.p.ownerKey, {
      intent: "research",
      max_total: 5_000,
      max_per_call: 1_000,
      max_per_day: 2_000,
      valid_until: hourFromNow(),
    });
    const key = (await boundKey(world.p.accountId, world.p.ownerKey, m.id)).key;
    const paid = await toolOk(key, "call_service", { slug: world.svc.slug, method: "GET", path: "/echo" });
    expect(paid.charge).toBe(700);
    await settledBalance(world.p.accountId);
    const out = await toolOk(key, "get_balance");
    expect(out.balance.available).toBe(49_300);
    expect(out.mandate).toMatchObject({
      id: m.id,
      max_total: 5_000,
      spent: 700,
      pending: 0,
      left_total: 4_300,
      used_today: 700,
      left_today: 1_300,
      revoked: false,
    });
    expect(out.can_spend).toBe(1_000); // max_per_call binds before the day's 1300 and the balance
  });
});

describe("catalog and pricing", () => {
  it("list_services answers what GET /v1/catalog answers", async () => {
    const listed = await api("/v1/services", {
      method: "POST",
      key: prov.key,
      body: { slug: `mcp-${Date.now()}`, name: "Listed", origin: svc.origin, prices: [{ per_call: 3 }], listed: true },
    });
    expect(listed.status).toBe(201);
    const out = await toolOk(p.agentKey, "list_services", { limit: 100 });
    const http = await api("/v1/catalog?limit=100");
    expect(out).toEqual(http.body);
    expect(out.data.map((s: { id: string }) => s.id)).toContain(listed.body.id);
  });

  it("get_pricing by id and by slug answers what GET /v1/services/{id}/pricing answers, with plans", async () => {
    const http = (await api(`/v1/services/${svc.id}/pricing`)).body;
    expect(await toolOk(p.agentKey, "get_pricing", { service_id: svc.id })).toEqual(http);
    expect(await toolOk(p.agentKey, "get_pricing", { slug: svc.slug })).toEqual(http);
    expect(http.plans[0]).toMatchObject({ name: "ten", price: 5_000, calls: 10 });
  });
});

describe("call_service", () => {
  it("a paid call through the proxy: the origin's answer, the charge, the balance header and the request id; the journal has the capture", async () => {
    const before = await settledBalance(p.accountId);
    const out = await toolOk(p.agentKey, "call_service", {
      slug: svc.slug,
      method: "POST",
      path: "/echo?x=1",
      body: '{"q":"hi"}',
      headers: { "content-type": "application/json", "x-custom": "v" },
    });
    expect(out).toMatchObject({ status: 200, truncated: false, charge: 1_000, balance: before.available - 1_000, pass: null });
    expect(out.request_id).toMatch(/^req_/);
    const echoed = JSON.parse(out.body);
    expect(echoed).toMatchObject({ method: "POST", path: "/echo", query: "?x=1", body: '{"q":"hi"}' });
    expect(echoed.headers["x-custom"]).toBe("v");
    // The agent's key never reaches the origin, as for any proxied call.
    expect(echoed.headers.authorization).toBeUndefined();
    expect(await settledBalance(p.accountId)).toMatchObject({ available: before.available - 1_000, pending: 0 });
    const journal = await transfers(p.accountId, "?limit=1");
    expect(journal[0]).toMatchObject({ kind: "capture", amount: 1_000, request_id: out.request_id, agent_key_id: p.agentKeyId });
  });

  it("a long body is cut at 64 KiB and says so; the call is still charged once", async () => {
    const before = await settledBalance(p.accountId);
    const out = await toolOk(p.agentKey, "call_service", { slug: svc.slug, method: "POST", path: "/echo", body: "x".repeat(100_000) });
    expect(out.truncated).toBe(true);
    expect(new TextEncoder().encode(out.body).byteLength).toBe(64 * 1024);
    expect(out.charge).toBe(1_000);
    expect((await settledBalance(p.accountId)).available).toBe(before.available - 1_000);
  });

  it("idempotency_key: 8 concurrent calls with one key are charged once", async () => {
    const before = await settledBalance(p.accountId);
    const args = { slug: svc.slug, method: "GET", path: "/echo", idempotency_key: `idem-${Date.now()}` };
    const results = await Promise.all(Array.from({ length: 8 }, () => mcp(p.agentKey, "tools/call", { name: "call_service", arguments: args })));
    const served = results.filter((r) => !r.result.isError);
    expect(served.length).toBeGreaterThanOrEqual(1);
    // A concurrent twin is refused while the first is in flight, never charged.
    for (const r of results.filter((x) => x.result.isError)) expect(r.result.structuredContent.code).toBe("idempotency_in_flight");
    expect(new Set(served.map((r) => r.result.structuredContent.request_id)).size).toBe(1);
    expect((await settledBalance(p.accountId)).available).toBe(before.available - 1_000);
  });
});

describe("list_transfers", () => {
  it("the account's journal page, as the owner's GET /v1/accounts/{id}/transfers shows it, and its cursor", async () => {
    await settledBalance(p.accountId);
    const owner = await api(`/v1/accounts/${p.accountId}/transfers?limit=2`, { key: p.ownerKey });
    const out = await toolOk(p.agentKey, "list_transfers", { limit: 2 });
    expect(out).toEqual(owner.body);
    const next = await toolOk(p.agentKey, "list_transfers", { limit: 2, cursor: out.next_cursor });
    const ownerNext = await api(`/v1/accounts/${p.accountId}/transfers?limit=2&cursor=${out.next_cursor}`, { key: p.ownerKey });
    expect(next).toEqual(ownerNext.body);
  });
});

describe("buy_pass and send_tip", () => {
  it("buy_pass: the pass, charged once; concurrent retries with one idempotency_key buy one pass", async () => {
    const before = await settledBalance(p.accountId);
    const args = { plan_id: planId, idempotency_key: `pass-${Date.now()}` };
    const outs = await Promise.all(Array.from({ length: 6 }, () => toolOk(p.agentKey, "buy_pass", args)));
    expect(new Set(outs.map((o) => o.pass.id)).size).toBe(1);
    expect(outs.filter((o) => !o.replayed)).toHaveLength(1);
    expect(outs[0].pass).toMatchObject({ plan_id: planId, price: 5_000, calls_left: 10, status: "active" });
    expect((await balance(p.accountId)).available).toBe(before.available - 5_000);
    // The pass covers the next call: charge 0 and the pass named.
    const covered = await toolOk(p.agentKey, "call_service", { slug: svc.slug, method: "GET", path: "/echo" });
    expect(covered).toMatchObject({ charge: 0, pass: outs[0].pass.id });
  });

  it("send_tip: the tip as POST /v1/tips answers it; concurrent retries with one idempotency_key tip once", async () => {
    const before = await settledBalance(p.accountId);
    const args = { service_id: svc.id, amount: 250, message: "thanks", idempotency_key: `tip-${Date.now()}` };
    const outs = await Promise.all(Array.from({ length: 6 }, () => toolOk(p.agentKey, "send_tip", args)));
    expect(new Set(outs.map((o) => o.tip.id)).size).toBe(1);
    expect(outs.filter((o) => !o.replayed)).toHaveLength(1);
    expect(outs[0].tip).toMatchObject({ account_id: p.accountId, service_id: svc.id, provider_id: prov.id, amount: 250, currency: "USD", message: "thanks" });
    expect((await balance(p.accountId)).available).toBe(before.available - 250);
    const journal = await api(`/v1/accounts/${p.accountId}/transfers?limit=1`, { key: OPERATOR });
    expect(journal.body.data[0]).toMatchObject({ id: outs[0].tip.id, kind: "tip", amount: 250, agent_key_id: p.agentKeyId });
  });
});
