import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import type { Context } from "hono";
import { agentSelf } from "../auth/agent-view";
import { authenticate, presentedKey } from "../auth/principal";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { type McpAgent, type ToolContext, type ToolRegistrar, toAuthInfo } from "./context";
import { registerBuyPass } from "./tools/buy-pass";
import { registerCallService } from "./tools/call-service";
import { registerGetBalance } from "./tools/get-balance";
import { registerGetPricing } from "./tools/get-pricing";
import { registerListServices } from "./tools/list-services";
import { registerListTransfers } from "./tools/list-transfers";
import { registerSendTip } from "./tools/send-tip";

const TOOLS: ToolRegistrar[] = [
  registerGetBalance,
  registerListServices,
  registerGetPricing,
  registerCallService,
  registerListTransfers,
  registerBuyPass,
  registerSendTip,
];

const INSTRUCTIONS =
  "Tollgate pays for an agent's calls to services from a prepaid account, within the limits its user set (a mandate). " +
  "Amounts are integer micro-units of the account's currency (1 USD = 1000000). Check get_balance before spending; " +
  "find services with list_services and get_pricing; call them with call_service. A refused payment is an error result " +
  "whose structured content has a code (insufficient_funds with price and available, mandate_* with mandate_id): tell the user what to authorize.";

/** A new server with every tool; a stateless transport serves one request, and a server connects to one transport. */
export function buildMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer(
    { name: "tollgate", version: "0.1.0" },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  for (const register of TOOLS) register(server, ctx);
  return server;
}

/** The agent behind the request's key: only an agent key that its ledger knows reaches the MCP server. */
async function mcpAgent(c: Context<AppEnv>): Promise<McpAgent> {
  const principal = await authenticate(c);
  if (principal.role !== "agent") throw new ApiError("invalid_key", "The MCP server takes an agent key.");
  const self = await agentSelf(c.env, principal);
  return { key: presentedKey(c.req.raw.headers) ?? "", keyId: self.key.id, accountId: principal.accountId, keyHash: principal.keyHash };
}

/**
 * `/mcp`: the payment MCP server, Streamable HTTP, stateless (no session id, JSON answers, no
 * server-initiated stream). The agent key is checked before the MCP layer (401 problem+json).
 * `dispatch` sends a request through the Worker's own app, so `call_service` is a proxied call.
 */
export async function mcpEndpoint(c: Context<AppEnv>, dispatch: ToolContext["dispatch"]): Promise<Response> {
  const agent = await mcpAgent(c);
  const server = buildMcpServer({ env: c.env, dispatch, gatewayOrigin: new URL(c.req.url).origin, clientIp: c.req.header("cf-connecting-ip") ?? null });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(c.req.raw, { authInfo: toAuthInfo(agent) });
  } finally {
    await server.close();
  }
}

/** GET and DELETE: a stateless server offers no standalone event stream and has no session to end. */
export function mcpMethodNotAllowed(): Response {
  return new Response(
    JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed: this server is stateless; send JSON-RPC by POST." }, id: null }),
    {
      status: 405,
      headers: { allow: "POST", "content-type": "application/json" },
    },
  );
}
