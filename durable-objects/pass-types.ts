import type { MandateViolation } from "./mandate-check";
import type { RateLimited } from "./velocity";
import type { Actor, Balance, Failure, Transfer } from "./types";

/** Plain result types of the ledger's passes (passes.ts). */

export type PassStatus = "active" | "used_up" | "expired" | "lapsed";

export type Pass = {
  id: string;
  plan_id: string;
  plan_name: string;
  service_id: string;
  provider_id: string;
  /** What each period costs (micro-units of the account's currency). */
  price: number;
  status: PassStatus;
  starts_at: string;
  /** Null: a call bundle that never expires. */
  expires_at: string | null;
  /** Null: no call limit while it lasts. */
  calls: number | null;
  calls_left: number | null;
  auto_renew: boolean;
  /** 1 for the purchase, one more for each renewal. */
  period: number;
  /** Why a renewal did not happen (`lapsed`): the limit that stopped it. */
  lapse_reason: string | null;
  agent_key_id: string | null;
  created_at: string;
};

/** The plan being bought, as the service lists it (in the service's currency). */
export type PlanTerms = { id: string; name: string; price: number; duration_s: number | null; calls: number | null };

/**
 * A pass bought by an agent (its key's mandate applies, as to a call; the audit trail names the
 * key) or by the owner (`keyHash` null, `actor` the owner or operator: the balance is the only limit).
 */
export type BuyPassInput = {
  actor: Actor;
  keyHash: string | null;
  plan: PlanTerms;
  serviceId: string;
  serviceSlug: string;
  providerId: string;
  feeBps: number;
  currency: string;
  autoRenew: boolean;
  idempotencyKey: string | null;
  fingerprint: string;
};

/** Why money for a pass could not be taken (a purchase, or a renewal that then lapses). */
export type ChargeRefusal =
  | { ok: false; code: "insufficient_funds"; price: number; available: number; currency: string }
  | { ok: false; code: MandateViolation; mandate_id: string; detail: string };

export type BuyPassResult =
  | { ok: true; replayed: boolean; pass: Pass; transfer: Transfer; balance: Balance }
  | Failure<"not_found" | "invalid_key" | "account_frozen" | "key_frozen" | "idempotency_mismatch" | "invalid_amount" | "renewal_needs_duration">
  | { ok: false; code: "currency_mismatch"; account_currency: string; service_currency: string }
  | RateLimited
  | ChargeRefusal;

/** Which of the service's plans cover a call (from the Worker, which matched them); `passOnly`: refuse the call without a pass. */
export type PassCoverage = { planIds: string[]; passOnly: boolean };

/**
 * Stops a pass's renewal. `agentKeyHash`: an agent may cancel only the passes its key bought
 * (null: the owner or operator, `actor`). An agent's actor is its key, whatever `actor` says.
 */
export type CancelPassInput = { actor: Actor; passId: string; agentKeyHash: string | null };
export type CancelPassResult = { ok: true; pass: Pass } | Failure<"not_found" | "invalid_key">;
