/**
 * MCP services through the proxy, against a real MCP server (demo/mcp-origin.ts: the MCP SDK's
 * McpServer over Streamable HTTP, started by test/global-setup.ts): a priced tool call charged
 * exactly, free methods free, an unpriced tool refused before forwarding, an error answer free.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { api, call, payer, providerServicePayer, settledBalance, transfers, type Payer, type ServiceRef } from "./helpers";

const PRICES = [
  { match: { mcp_tool: "search*" }, per_call: 500 },
  { match: { mcp_tool: "divide" }, per_call: 300 },
  { match: { mcp_tool: "count" }, per_call: 200 },
];
const MCP_HEADERS = { accept: "application/json, text/event-stream", "content-type": "application/json" };

let svc: ServiceRef;
let p: Payer;
const mcpOrigin = () => inject("mcpOriginUrl");

beforeAll(async () => {
  ({ svc, p } = await providerServicePayer({ origin: mcpOrigin(), prices: PRICES, protocol: "mcp" }, 100_000));
});

let nextId = 0;
function rpc(method: string, params?: unknown, id: number | string | null = ++nextId) {
  return id === null ? { jsonrpc: "2.0", method, params } : { jsonrpc: "2.0", id, method, params };
}

/** POSTs one JSON-RPC message (or anything) to the service's MCP endpoint. */
function post(body: unknown, opts: { key?: string; path?: string } = {}): Promise<Response> {
  return call(`/s/${svc.slug}${opts.path ?? "/mcp"}`, { key: opts.key ?? p.agentKey, body, headers: MCP_HEADERS });
}

/** The JSON-RPC message answering `id` in a JSON or SSE body. */
async function answer(res: Response, id: unknown): Promise<any> {
  const text = await res.text();
  const messages = (res.headers.get("content-type") ?? "").includes("text/event-stream")
    ? text
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => JSON.parse(l.slice(6)))
    : [JSON.parse(text)];
  return messages.find((m) => m.id === id);
}

const originCalls = async (): Promise<Record<string, number>> => (await fetch(`${mcpOrigin()}/calls`)).json();
const available = async (who: Payer = p) => (await settledBalance(who.accountId)).available;

describe("an mcp service's tool calls", () => {
  it("a priced tool call is charged its rule's per_call, exactly, over SSE and JSON answers", async () => {
    for (const path of ["/mcp", "/mcp-json"]) {
      const before = await available();
      const msg = rpc("tools/call", { name: "search", arguments: { query: "tolls" } });
      const res = await post(msg, { path });
      expect(res.status).toBe(200);
      expect(res.headers.get("tollgate-hold")).toBe("500");
      expect((await answer(res, msg.id)).result.content[0].text).toBe("3 results for 'tolls'");
      expect(await available()).toBe(before - 500);
      const [last] = await transfers(p.accountId, "?limit=1");
      expect(last).toMatchObject({ kind: "capture", amount: 500, reason: "origin_succeeded" });
    }
  });

  it("progress notifications before the result: the result is matched by id and charged", async () => {
    const before = await available();
    const msg = rpc("tools/call", { name: "count", arguments: { n: 3 }, _meta: { progressToken: "t1" } });
    const res = await post(msg);
    const text = await res.text();
    expect(text.match(/notifications\/progress/g)?.length).toBe(3);
    expect(text).toContain("counted to 3");
    expect(await available()).toBe(before - 200);
  });

  it("an isError result and a JSON-RPC error answer cost nothing (SSE and JSON)", async () => {
    for (const path of ["/mcp", "/mcp-json"]) {
      const before = await available();
      const divide = rpc("tools/call", { name: "divide", arguments: { a: 1, b: 0 } });
      const res = await post(divide, { path });
      expect(res.status).toBe(200);
      expect((await answer(res, divide.id)).result.isError).toBe(true);
      // Priced by search*, but the origin has no such tool: it answers an error.
      const missing = rpc("tools/call", { name: "search_nothing", arguments: {} });
      const r2 = await post(missing, { path });
      const a2 = await answer(r2, missing.id);
      expect(a2.error ?? a2.result?.isError).toBeTruthy();
      expect(await available()).toBe(before);
    }
    // A working division is charged: the rule is right, only the errors were free.
    const before = await available();
    const ok = rpc("tools/call", { name: "divide", arguments: { a: 6, b: 3 } });
    expect((await answer(await post(ok), ok.id)).result.content[0].text).toBe("2");
    expect(await available()).toBe(before - 300);
  });

  it("an unpriced tool is refused before forwarding with a JSON-RPC error (id echoed, Tollgate's code in data)", async () => {
    const seen = (await originCalls()).admin_reset ?? 0;
    const before = await available();
    const msg = rpc("tools/call", { name: "admin_reset", arguments: {} }, "reset-1");
    const res = await post(msg);
    expect(res.status).toBe(200);
    expect(res.headers.get("tollgate-charge")).toBe("0");
    const body = await res.json<any>();
    expect(body).toMatchObject({ jsonrpc: "2.0", id: "reset-1", error: { code: -32000, data: { code: "no_price" } } });
    expect(body.error.message).toContain("admin_reset");
    expect((await originCalls()).admin_reset ?? 0).toBe(seen);
    expect(await available()).toBe(before);
  });

  it("batches are refused whole (400, -32600, id null), never forwarded", async () => {
    const seen = (await originCalls()).search ?? 0;
    const res = await post([rpc("tools/list"), rpc("tools/call", { name: "search", arguments: { query: "x" } })]);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32600 } });
    expect((await originCalls()).search ?? 0).toBe(seen);
  });

  it("other requests are refused, not forwarded free; Mcp-Name must match the body", async () => {
    const read = await post(rpc("resources/read", { uri: "file:///x" }, 77));
    expect(await read.json()).toMatchObject({ id: 77, error: { code: -32601 } });
    const seen = (await originCalls()).search ?? 0;
    const msg = rpc("tools/call", { name: "admin_reset", arguments: {} });
    const lying = await call(`/s/${svc.slug}/mcp`, {
      key: p.agentKey,
      body: msg,
      headers: { ...MCP_HEADERS, "mcp-method": "tools/call", "mcp-name": "search" },
    });
    expect(lying.status).toBe(400);
    expect((await originCalls()).search ?? 0).toBe(seen);
  });
});

describe("an mcp service's free messages", () => {
  it("initialize, tools/list, ping and a notification are forwarded free: balance unchanged, no transfer", async () => {
    const before = await available();
    const [latest] = await transfers(p.accountId, "?limit=1");
    const init = rpc("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } });
    const r1 = await post(init);
    expect(r1.headers.get("tollgate-charge")).toBe("0");
    expect((await answer(r1, init.id)).result.serverInfo.name).toBe("tollgate-demo-mcp");
    const list = rpc("tools/list");
    const r2 = await post(list);
    expect(r2.headers.get("tollgate-charge")).toBe("0");
    expect((await answer(r2, list.id)).result.tools.map((t: { name: string }) => t.name)).toContain("search");
    const ping = rpc("ping");
    expect((await answer(await post(ping), ping.id)).result).toEqual({});
    const note = await post(rpc("notifications/initialized", undefined, null));
    expect(note.status).toBe(202);
    await note.text();
    expect(await available()).toBe(before);
    expect((await transfers(p.accountId, "?limit=1"))[0]?.id).toBe(latest?.id);
  });

  it("GET and DELETE of the transport are free too", async () => {
    const before = await available();
    const get = await call(`/s/${svc.slug}/mcp`, { key: p.agentKey, headers: { accept: "text/event-stream" } });
    expect(get.headers.get("tollgate-charge")).toBe("0");
    await get.body?.cancel();
    const del = await call(`/s/${svc.slug}/mcp`, { key: p.agentKey, method: "DELETE" });
    expect(del.headers.get("tollgate-charge")).toBe("0");
    await del.body?.cancel();
    expect(await available()).toBe(before);
  });

  it("still need a valid agent key", async () => {
    const none = await call(`/s/${svc.slug}/mcp`, { body: rpc("tools/list"), headers: MCP_HEADERS });
    expect(none.status).toBe(401);
    const bad = await post(rpc("tools/list"), { key: `${p.agentKey.slice(0, -1)}x` });
    expect(bad.status).toBe(401);
  });
});

describe("racing tool calls", () => {
  it("50 racing priced calls against a balance for 10: exactly 10 charged, the rest refused as JSON-RPC errors", async () => {
    const poor = await payer(5000);
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const msg = rpc("tools/call", { name: "search", arguments: { query: `q${i}` } });
        const res = await post(msg, { key: poor.agentKey, path: i % 2 ? "/mcp" : "/mcp-json" });
        return answer(res, msg.id);
      }),
    );
    const served = results.filter((a) => a.result);
    const refused = results.filter((a) => a.error);
    expect(served).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const r of refused) expect(r.error.data.code).toBe("insufficient_funds");
    expect(await settledBalance(poor.accountId)).toMatchObject({ available: 0, pending: 0 });
    const charged = (await transfers(poor.accountId, "?limit=100")).filter((t) => t.kind === "capture");
    expect(charged.map((t) => t.amount)).toEqual(Array(10).fill(500));
  });
});

describe("protocol and mcp_tool on the service", () => {
  it("is shown in the service and its pricing; mcp_tool needs protocol mcp; an mcp service's rules are per_call", async () => {
    const svcView = await api(`/v1/services/${svc.id}/pricing`);
    expect(svcView.body).toMatchObject({ protocol: "mcp", prices: PRICES });
    const { prov } = await providerServicePayer({}, 0);
    const plain = await api("/v1/services", {
      key: prov.key,
      body: { slug: `plain-${Date.now()}`, name: "x", origin: mcpOrigin(), prices: [{ per_call: 1 }] },
    });
    expect(plain.body.protocol).toBe("http");
    const wrong = await api("/v1/services", { key: prov.key, body: { slug: `w-${Date.now()}`, name: "x", origin: mcpOrigin(), prices: PRICES } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].path).toBe("prices.0.match.mcp_tool");
    const metered = await api("/v1/services", {
      key: prov.key,
      body: { slug: `m-${Date.now()}`, name: "x", origin: mcpOrigin(), protocol: "mcp", prices: [{ meter: "bytes", rate: { amount: 1, per: 1 }, hold: 10 }] },
    });
    expect(metered.status).toBe(400);
    // PATCH: turning the mcp service into http while its rules name tools is refused; changing nothing else.
    const back = await api(`/v1/services/${plain.body.id}`, { key: prov.key, method: "PATCH", body: { prices: PRICES } });
    expect(back.status).toBe(400);
    const toMcp = await api(`/v1/services/${plain.body.id}`, { key: prov.key, method: "PATCH", body: { protocol: "mcp", prices: PRICES } });
    expect(toMcp.status, JSON.stringify(toMcp.body)).toBe(200);
    expect(toMcp.body).toMatchObject({ protocol: "mcp", prices: PRICES });
    const toHttp = await api(`/v1/services/${plain.body.id}`, { key: prov.key, method: "PATCH", body: { protocol: "http" } });
    expect(toHttp.status).toBe(400);
    expect((await api(`/v1/services/${plain.body.id}`, { key: prov.key })).body.protocol).toBe("mcp");
  });
});
