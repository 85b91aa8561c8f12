import { sha256Hex } from "../../core/ids";
import { tipRefusal } from "../account-client/refusals";
import { rpc } from "../account-client/rpc";
import { ledgerFor } from "../account-client/stub";
import { db } from "../db/client";
import { config, type Env } from "../env";
import { ApiError } from "../errors";
import { getService } from "../services/store";
import type { Buyer } from "./buy-pass";

export type TipView = {
  id: string;
  account_id: string;
  service_id: string;
  provider_id: string;
  amount: number;
  fee: number;
  currency: string;
  message: string | null;
  created_at: string;
};

/**
 * Tips a service's provider from the tipper's account: the one path `POST /v1/tips` and the MCP
 * `send_tip` tool share. A refusal is thrown as the API error it maps to; nothing moves.
 */
export async function sendTip(
  env: Env,
  from: Buyer,
  input: { service_id: string; amount: number; message?: string },
  idempotencyKey: string | null,
): Promise<{ tip: TipView; replayed: boolean }> {
  const service = await getService(db(env), input.service_id);
  if (!service) throw new ApiError("not_found", "No such service.");
  const result = await rpc.tip(ledgerFor(env, from.accountId), {
    keyHash: from.keyHash,
    serviceId: service.id,
    serviceSlug: service.slug,
    providerId: service.provider_id,
    currency: service.currency,
    feeBps: config(env).TIP_FEE_BPS,
    amount: input.amount,
    message: input.message ?? null,
    idempotencyKey,
    fingerprint: await sha256Hex(JSON.stringify([input.service_id, input.amount, input.message ?? null])),
  });
  if (!result.ok) throw tipRefusal(result);
  const t = result.transfer;
  const tip: TipView = {
    id: t.id,
    account_id: from.accountId,
    service_id: service.id,
    provider_id: t.provider_id ?? service.provider_id,
    amount: t.amount,
    fee: t.fee,
    currency: t.currency,
    message: t.reason,
    created_at: t.created_at,
  };
  return { tip, replayed: result.replayed };
}
