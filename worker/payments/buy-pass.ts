import { sha256Hex } from "../../core/ids";
import type { Pass } from "../../durable-objects/pass-types";
import { buyPassRefusal } from "../account-client/refusals";
import { rpc } from "../account-client/rpc";
import { ledgerFor } from "../account-client/stub";
import { db } from "../db/client";
import { config, type Env } from "../env";
import { ApiError } from "../errors";
import { findPlan } from "../services/plans";

/** Who buys: the account, and the agent key when an agent buys (its mandate applies). */
export type Buyer = { accountId: string; keyHash: string | null };

/**
 * Buys a pass of `planId` for the buyer's account: the one path `POST /v1/passes` and the MCP
 * `buy_pass` tool share. A refusal is thrown as the API error it maps to; nothing is charged.
 */
export async function buyPass(
  env: Env,
  buyer: Buyer,
  input: { plan_id: string; auto_renew?: boolean },
  idempotencyKey: string | null,
): Promise<{ pass: Pass; replayed: boolean }> {
  const found = await findPlan(db(env), input.plan_id);
  if (!found) throw new ApiError("not_found", "No such plan.");
  const { service, plan } = found;
  const autoRenew = input.auto_renew ?? false;
  const result = await rpc.buyPass(ledgerFor(env, buyer.accountId), {
    actor: "owner",
    keyHash: buyer.keyHash,
    plan: { id: plan.id, name: plan.name, price: plan.price, duration_s: plan.duration_s, calls: plan.calls },
    serviceId: service.id,
    serviceSlug: service.slug,
    providerId: service.provider_id,
    feeBps: service.fee_bps ?? config(env).PLATFORM_FEE_BPS,
    currency: service.currency,
    autoRenew,
    idempotencyKey,
    fingerprint: await sha256Hex(JSON.stringify([input.plan_id, autoRenew])),
  });
  if (!result.ok) throw buyPassRefusal(result);
  return { pass: result.pass, replayed: result.replayed };
}
