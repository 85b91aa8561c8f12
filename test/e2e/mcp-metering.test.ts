/**
 * MCP tool metering end to end, over real HTTP (`wrangler dev`): the MCP SDK's own client
 * (`Client` + `StreamableHTTPClientTransport`, the agent key as Bearer) talks to the demo MCP
 * origin (demo/mcp-origin.ts) through Tollgate — the tool list free, a priced tool call charged
 * to the micro-unit, an `isError` result free, an unpriced tool refused as an MCP error.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMcpOrigin, type RunningMcpOrigin } from "../../demo/mcp-origin.ts";
import { jsonClient, startGateway, type Gateway } from "./harness.ts";

let gw: Gateway;
let origin: RunningMcpOrigin;
let api: ReturnType<typeof jsonClient>;

beforeAll(async () => {
  origin = await startMcpOrigin(0);
  gw = await startGateway({ vars: { ALLOW_PRIVATE_ORIGINS: "true" } });
  api = jsonClient(gw);
});

afterAll(async () => {
  await gw?.stop();
  await origin?.close();
});

/** The account's balance once no hold is pending (a capture settles just after the answer). */
async function settled(accountId: string, key: string): Promise<{ available: number; pending: number }> {
  for (let i = 0; ; i++) {
    const b = (await api("GET", `/v1/accounts/${accountId}/balance`, key)).body;
    if (b.pending === 0 || i > 100) return b;
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe("end to end: an MCP server metered per tool call", () => {
  for (const path of ["/mcp", "/mcp-json"]) {
    it(`the SDK client through Tollgate (${path === "/mcp" ? "SSE" : "JSON"} answers): tools/list free, search charged, isError free, unpriced refused`, async () => {
      const op = gw.operatorToken;
      const prov = (await api("POST", "/v1/providers", op, { name: "MCP provider" })).body;
      const slug = `mcp-${Date.now().toString(36)}-${path.length}`;
      const svc = await api("POST", "/v1/services", prov.api_key, {
        slug,
        name: "Demo MCP tools",
        origin: origin.url,
        protocol: "mcp",
        prices: [
          { match: { mcp_tool: "search*" }, per_call: 1_234 },
          { match: { mcp_tool: "divide" }, per_call: 300 },
        ],
      });
      expect(svc.status, JSON.stringify(svc.body)).toBe(201);
      expect(svc.body.protocol).toBe("mcp");
      const acct = (await api("POST", "/v1/accounts", op, { name: "agent owner", currency: "USD" })).body;
      await api("POST", `/v1/accounts/${acct.id}/credits`, op, { amount: 100_000 });
      const key = (await api("POST", `/v1/accounts/${acct.id}/agent-keys`, acct.owner_key, { name: "mcp-bot" })).body.key;

      const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}/s/${slug}${path}`), {
        requestInit: { headers: { Authorization: `Bearer ${key}` } },
      });
      const client = new Client({ name: "tollgate-e2e", version: "1.0.0" });
      await client.connect(transport);
      try {
        const tools = await client.listTools();
        expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(["search", "divide", "count"]));
        expect(await settled(acct.id, acct.owner_key)).toMatchObject({ available: 100_000, pending: 0 });

        const found = await client.callTool({ name: "search", arguments: { query: "toll roads" } });
        expect(found.content).toEqual([{ type: "text", text: "3 results for 'toll roads'" }]);
        expect(await settled(acct.id, acct.owner_key)).toMatchObject({ available: 100_000 - 1_234, pending: 0 });

        const divided = await client.callTool({ name: "divide", arguments: { a: 1, b: 0 } });
        expect(divided.isError).toBe(true);
        expect(await settled(acct.id, acct.owner_key)).toMatchObject({ available: 100_000 - 1_234, pending: 0 });

        const seen = origin.calls.get("admin_reset") ?? 0;
        const refused = await client.callTool({ name: "admin_reset", arguments: {} }).then(
          () => null,
          (err: { code?: number; data?: { code?: string } }) => err,
        );
        expect(refused).toMatchObject({ code: -32000, data: { code: "no_price" } });
        expect(origin.calls.get("admin_reset") ?? 0).toBe(seen);

        const journal = (await api("GET", `/v1/accounts/${acct.id}/transfers`, acct.owner_key)).body.data;
        expect(journal.filter((t: { kind: string }) => t.kind === "capture").map((t: { amount: number }) => t.amount)).toEqual([1_234]);
      } finally {
        await client.close();
      }
    });
  }
});
