/**
 * The payment MCP server over real HTTP (`wrangler dev` → the demo origin), driven by the official
 * MCP SDK client as an agent's host would: list the tools, read the balance, pay for calls with
 * call_service until the money runs out, and read the refusal as a tool error with its reason.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, type RunningOrigin } from "../../demo/origin.ts";
import { eventually, jsonClient, startGateway, type Gateway } from "./harness.ts";

let gw: Gateway;
let origin: RunningOrigin;
let api: ReturnType<typeof jsonClient>;

const PRICE = 1_234;
const FUNDS = 5_000; // four calls (4 936), then 64 left: the fifth is refused

beforeAll(async () => {
  [gw, origin] = await Promise.all([startGateway({ vars: { ALLOW_PRIVATE_ORIGINS: "true" } }), startOrigin(0)]);
  api = jsonClient(gw);
});

afterAll(async () => {
  await gw?.stop();
  await origin?.close();
});

describe("end to end: an agent pays through the MCP server", () => {
  it("lists tools, reads its balance, pays for calls to the micro-unit and is refused when funds run out", async () => {
    const op = gw.operatorToken;
    const prov = (await api("POST", "/v1/providers", op, { name: "MCP provider" })).body;
    const slug = `mcp-${Date.now().toString(36)}`;
    const svc = await api("POST", "/v1/services", op, {
      slug,
      name: "Echo",
      origin: origin.url,
      prices: [{ per_call: PRICE }],
      provider_id: prov.id,
      listed: true,
    });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    const acct = (await api("POST", "/v1/accounts", op, { name: "agent's user", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: FUNDS });
    const agentKey = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "bot" })).body.key;

    const client = new Client({ name: "e2e-agent", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${agentKey}` } } });
    await client.connect(transport);
    try {
      expect(client.getServerVersion()?.name).toBe("tollgate");
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        "buy_pass",
        "call_service",
        "get_balance",
        "get_pricing",
        "list_services",
        "list_transfers",
        "send_tip",
      ]);

      const start = await client.callTool({ name: "get_balance", arguments: {} });
      expect(start.isError).toBeFalsy();
      expect(start.structuredContent).toMatchObject({
        account_id: acct.id,
        balance: { currency: "USD", posted: FUNDS, pending: 0, available: FUNDS },
        mandate: null,
      });

      const catalog = await client.callTool({ name: "list_services", arguments: { limit: 100 } });
      expect((catalog.structuredContent as { data: { slug: string }[] }).data.map((s) => s.slug)).toContain(slug);

      for (let i = 1; i <= 4; i++) {
        const paid = await client.callTool({ name: "call_service", arguments: { slug, method: "POST", path: "/echo", body: `call ${i}` } });
        expect(paid.isError, JSON.stringify(paid)).toBeFalsy();
        const out = paid.structuredContent as Record<string, any>;
        expect(out).toMatchObject({ status: 200, charge: PRICE, pass: null, truncated: false });
        expect(JSON.parse(out.body)).toMatchObject({ method: "POST", path: "/echo", body: `call ${i}` });
        expect(out.request_id).toMatch(/^req_/);
      }

      // Settlement runs after each response: once nothing is held, the balance is exact.
      const after = await eventually(
        async () => (await client.callTool({ name: "get_balance", arguments: {} })).structuredContent as Record<string, any>,
        (b) => expect(b.balance.pending).toBe(0),
      );
      expect(after.balance).toEqual({ currency: "USD", posted: FUNDS - 4 * PRICE, pending: 0, available: FUNDS - 4 * PRICE });
      expect(after.can_spend).toBe(64);
      expect((await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body).toEqual(after.balance);

      const refused = await client.callTool({ name: "call_service", arguments: { slug, method: "GET", path: "/echo" } });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent).toMatchObject({ refused: true, code: "insufficient_funds", price: PRICE, available: 64, currency: "USD" });
      expect((refused.content as { type: string; text: string }[])[0]?.text).toContain("insufficient_funds");

      const journal = await client.callTool({ name: "list_transfers", arguments: { limit: 10 } });
      const rows = (journal.structuredContent as { data: { kind: string; amount: number }[] }).data;
      expect(rows.map((r) => [r.kind, r.amount])).toEqual([
        ["capture", PRICE],
        ["capture", PRICE],
        ["capture", PRICE],
        ["capture", PRICE],
        ["credit", FUNDS],
      ]);
      expect((await api("GET", `/v1/accounts/${acct.id}/balance`, acct.owner_key)).body.available).toBe(64);
    } finally {
      await client.close();
    }

    // Without the agent's key, the endpoint answers 401 before any MCP.
    const anon = await fetch(`${gw.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: "{}",
    });
    expect(anon.status).toBe(401);
    expect(anon.headers.get("content-type")).toBe("application/problem+json");
    await anon.body?.cancel();
  });
});
