import type { Actor, Balance, Failure } from "./types";

/** Plain result types of the ledger's disputes (disputes.ts). */

export const DISPUTE_REASONS = ["unauthorized", "not_delivered", "defective", "duplicate"] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];
export type DisputeStatus = "open" | "accepted" | "won_by_payer" | "won_by_provider";

export type Dispute = {
  id: string;
  account_id: string;
  /** The disputed charge (a capture of this account). */
  transfer_id: string;
  provider_id: string | null;
  service_id: string | null;
  reason: DisputeReason;
  detail: string | null;
  /** What the dispute claims back: all of the charge that was not refunded when it opened. */
  amount: number;
  /** What the compensation account credited the payer at once (reason `unauthorized`). */
  compensated: number;
  currency: string;
  status: DisputeStatus;
  /** The provider's evidence when it contests. */
  evidence: string | null;
  contested_at: string | null;
  created_at: string;
  resolved_at: string | null;
};

/**
 * The owner disputes a charge. `compensationLimit` (micro-units of the account's currency) caps
 * what an `unauthorized` dispute is credited at once; a charge older than `windowMs` is past disputing.
 */
export type OpenDisputeInput = {
  actor: Actor;
  transferId: string;
  reason: DisputeReason;
  detail: string | null;
  compensationLimit: number;
  windowMs: number;
};
export type OpenDisputeResult =
  | { ok: true; dispute: Dispute; balance: Balance }
  | Failure<"not_found" | "dispute_window_closed" | "nothing_to_dispute">
  | { ok: false; code: "dispute_exists"; dispute_id: string };

/** The provider's answer (`providerId` must be the charge's; null: the operator answers for it). */
export type RespondDisputeInput = { actor: Actor; disputeId: string; providerId: string | null; accept: boolean; evidence: string | null };
/** The operator's decision on an open dispute. */
export type ResolveDisputeInput = { actor: Actor; disputeId: string; winner: "payer" | "provider" };

export type DisputeStepResult =
  | { ok: true; dispute: Dispute }
  | Failure<"not_found" | "already_contested">
  | { ok: false; code: "dispute_closed"; status: DisputeStatus };
