import type { AgentView } from "../../durable-objects/types";
import { ledgerFor } from "../account-client/stub";
import type { Env } from "../env";
import { ApiError } from "../errors";

export type AgentSelf = Extract<AgentView, { ok: true }>;

/**
 * What an agent key may see of itself (its account, key, mandate and balance), read from the
 * ledger that holds the key: the key is verified by the same read, so a revoked or unknown key
 * is `invalid_key` here. `GET /v1/me` and the MCP server both read it so.
 */
export async function agentSelf(env: Env, agent: { accountId: string; keyHash: string }): Promise<AgentSelf> {
  const view = await ledgerFor(env, agent.accountId).agent(agent.keyHash);
  if (!view.ok) throw new ApiError("invalid_key");
  return view;
}
