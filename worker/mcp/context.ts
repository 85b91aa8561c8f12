import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Env } from "../env";
import { ApiError } from "../errors";

/** The agent an MCP request acts for: its key (to make calls as it), account and key hash. */
export type McpAgent = { key: string; keyId: string; accountId: string; keyHash: string };

/** What every tool is given besides its input: the Worker's bindings and a way to call the gateway itself. */
export type ToolContext = {
  env: Env;
  /** Sends a request through the Worker's own app (proxy, metering and all), as a client's request would go. */
  dispatch: (request: Request) => Promise<Response>;
  /** The origin the MCP request came to; calls made for the agent go to the same gateway. */
  gatewayOrigin: string;
  /** The edge's `cf-connecting-ip` of the MCP request: calls made for the agent come from the same client. */
  clientIp: string | null;
};

export type ToolRegistrar = (server: McpServer, ctx: ToolContext) => void;

/** The agent as the transport hands it to tools (`handleRequest(request, { authInfo })`). */
export function toAuthInfo(agent: McpAgent): AuthInfo {
  return { token: agent.key, clientId: agent.keyId, scopes: ["agent"], extra: { accountId: agent.accountId, keyHash: agent.keyHash } };
}

/** The agent a tool acts for; every MCP request is authenticated before the server sees it. */
export function agentOf(extra: { authInfo?: AuthInfo }): McpAgent {
  const info = extra.authInfo;
  const accountId = info?.extra?.accountId;
  const keyHash = info?.extra?.keyHash;
  if (!info || typeof accountId !== "string" || typeof keyHash !== "string") throw new ApiError("unauthorized");
  return { key: info.token, keyId: info.clientId, accountId, keyHash };
}
