/**
 * Plain result types of the AccountLedger's RPC surface. Results are discriminated unions of
 * plain objects (structured-clone safe), never class instances or thrown errors.
 */

import type { AuditRecord } from "../core/audit-chain";
import type { Tags } from "../core/tags";
import type { PriceRule, Usage } from "../core/pricing/rules";
import type { MandateViolation } from "./mandate-check";
import type { RateLimited } from "./velocity";
import type { PassCoverage } from "./pass-types";

export type Balance = { currency: string; posted: number; pending: number; available: number };

export type TransferKind = "credit" | "capture" | "refund" | "compensation" | "repayment" | "tip";

export type Transfer = {
  id: string;
  seq: number;
  kind: TransferKind;
  amount: number;
  /** Platform fee taken from a capture (the provider receives `amount - fee`). */
  fee: number;
  currency: string;
  hold_id: string | null;
  request_id: string | null;
  service_id: string | null;
  provider_id: string | null;
  agent_key_id: string | null;
  mandate_id: string | null;
  tags: Tags | null;
  reference: string | null;
  /** What the call used (metered rules), and whether part of it is an estimate. */
  usage: (Usage & { estimated?: boolean }) | null;
  /** What the usage cost beyond the hold, which could not be captured (visible to the provider). */
  shortfall: number;
  /** Why the capture settled as it did, e.g. `origin_succeeded`, `client_disconnected`. */
  reason: string | null;
  /** A refund's capture (the transfer it gives money back for); null for other kinds. */
  refund_of: string | null;
  /** The dispute this transfer settles (a compensation, a repayment, a dispute's refund); null otherwise. */
  dispute_id: string | null;
  created_at: string;
};

export type HoldState = "pending" | "captured" | "voided" | "expired";

export type Hold = {
  id: string;
  request_id: string;
  agent_key_id: string;
  service_id: string;
  provider_id: string;
  fee_bps: number;
  amount: number;
  captured: number | null;
  state: HoldState;
  reason: string | null;
  created_at: string;
  expires_at: string;
  resolved_at: string | null;
  /** The hold waits for the provider's usage report (`POST /v1/usage`). */
  deferred: boolean;
  mandate_id: string | null;
  tags: Tags | null;
  /** The pass the call drew on (held for 0), or null. */
  pass_id: string | null;
};

export type AgentKey = {
  id: string;
  name: string;
  mandate_id: string | null;
  max_calls_per_minute: number | null;
  max_spend_per_minute: number | null;
  created_at: string;
  revoked_at: string | null;
  /** Frozen by the operator's kill switch: refused at once until unfrozen. */
  frozen_at: string | null;
};

export type KeyLimits = { max_calls_per_minute: number | null; max_spend_per_minute: number | null };

export type Mandate = {
  id: string;
  intent: string;
  /** SHA-256 of the intent, as the audit trail records it. */
  intent_hash: string;
  max_total: number;
  max_per_call: number;
  max_per_day: number | null;
  valid_from: string;
  valid_until: string;
  services: string[] | null;
  tags: Tags | null;
  created_at: string;
  revoked_at: string | null;
  /** Captured under the mandate so far. */
  spent: number;
  /** Held for calls in flight under the mandate. */
  pending: number;
  /** The most one tip may be (0: no tips; null: tips within the other limits). */
  max_tip: number | null;
};

export type MandateInput = {
  intent: string;
  max_total: number;
  max_per_call: number;
  max_per_day: number | null;
  valid_from: number;
  valid_until: number;
  services: string[] | null;
  tags: Tags | null;
  /** The most one tip may be (0: no tips; null: tips within the other limits). */
  max_tip?: number | null;
};

/** Who did something, as the audit trail names them. */
export type Actor = "operator" | "owner" | "system" | `agent:${string}` | `provider:${string}`;

/** What the object needs of its environment (the Worker's binding of the same name). */
export type LedgerEnv = { DB: D1Database };

export type AuditEvent = Omit<AuditRecord, "at"> & { at: string };

export type Failure<C extends string> = { ok: false; code: C; detail?: string };

export type OpenInput = { accountId: string; currency: string; actor: Actor };
export type OpenResult = { ok: true; account_id: string; currency: string } | Failure<"conflict">;

export type CreditInput = {
  actor: Actor;
  amount: number;
  reference: string | null;
  /** Optional caller-chosen key; with `fingerprint`, makes the credit idempotent (I3). */
  idempotencyKey: string | null;
  fingerprint: string;
};
export type CreditResult =
  | { ok: true; replayed: boolean; transfer: Transfer; balance: Balance }
  | Failure<"not_found" | "idempotency_mismatch" | "invalid_amount" | "amount_out_of_range">;

/**
 * A refund of a capture (refunds.ts). `providerId`: the provider asking, which must be the one
 * the capture paid (null: the operator). `amount` null refunds what is still refundable.
 */
export type RefundInput = {
  actor: Actor;
  transferId: string;
  providerId: string | null;
  amount: number | null;
  reason: string | null;
  idempotencyKey: string | null;
  fingerprint: string;
};
export type RefundResult =
  | { ok: true; replayed: boolean; transfer: Transfer; balance: Balance }
  | Failure<"not_found" | "not_refundable" | "idempotency_mismatch" | "invalid_amount">
  | { ok: false; code: "refund_exceeds_charge"; refundable: number };

/**
 * A tip (tips.ts): `keyHash` is the agent key giving it, null for the account's owner. The
 * service's provider, slug and currency come from the Worker, which looked the service up.
 */
export type TipInput = {
  keyHash: string | null;
  serviceId: string;
  serviceSlug: string;
  providerId: string;
  currency: string;
  /** The platform's take on tips, in basis points. */
  feeBps: number;
  amount: number;
  message: string | null;
  idempotencyKey: string | null;
  fingerprint: string;
};
export type TipResult =
  | { ok: true; replayed: boolean; transfer: Transfer; balance: Balance }
  | Failure<"not_found" | "invalid_key" | "account_frozen" | "key_frozen" | "idempotency_mismatch" | "invalid_amount">
  | { ok: false; code: MandateViolation | "mandate_tip_not_allowed" | "mandate_tip_exceeded"; mandate_id: string; detail: string }
  | { ok: false; code: "insufficient_funds"; price: number; available: number; currency: string }
  | { ok: false; code: "currency_mismatch"; account_currency: string; service_currency: string }
  | RateLimited;

export type ReserveInput = {
  keyHash: string;
  requestId: string;
  serviceId: string;
  providerId: string;
  feeBps: number;
  amount: number;
  /** ISO 4217: the currency `amount` is in (the service's); it must be the account's. */
  currency: string;
  /** How long the call may take before the hold is expired by the alarm. */
  ttlMs: number;
  /** For a hold settled later by the provider's usage report: the rule that prices it. */
  deferredRule?: PriceRule | null;
  /** For the key's mandate: which service is called, by slug. */
  serviceSlug?: string;
  /** The call's own cost-allocation tags (the mandate's are added and win). */
  tags?: Tags;
  /** The agent's `Idempotency-Key` and a digest of the call, so a retry is not charged twice. */
  idempotency?: { key: string; fingerprint: string } | null;
  /** The service's plans that cover this call (absent: none): an active pass of one serves it for 0. */
  passes?: PassCoverage | null;
};

/** A settled call's response, kept for replay to a retry with the same Idempotency-Key. */
export type StoredResponse = { status: number; headers: Record<string, string>; body: string | null; request_id: string; charge: number | null };

export type CaptureDetail = { usage?: Usage & { estimated?: boolean }; shortfall?: number; reason?: string };

/**
 * A capture the Worker queued to send with the account's next request.
 * `keep` is for a call made with an Idempotency-Key: the response a retry gets back, or null to
 * free the key (the call did not complete); it lands in the capture's own transaction.
 */
export type Settlement = { holdId: string; amount: number; detail: CaptureDetail; keep?: StoredResponse | null; refund?: AutoRefund };

/**
 * Why a capture is refunded in full in its own transaction, decided by the Worker before the
 * capture was sent (the origin answered slower than the service's SLA allows).
 */
export type AutoRefund = "sla_breach";
/** Whether a queued capture landed; a hold found already captured counts (an earlier attempt landed). */
export type SettlementOutcome = { hold_id: string; ok: true } | { hold_id: string; ok: false; code: string };

/** The provider's report of a deferred call's usage; the provider is the actor. */
export type UsageReport = { requestId: string; units: number; actor: `provider:${string}` };
export type UsageReportResult =
  | { ok: true; hold: Hold; transfer: Transfer | null }
  | Failure<"unknown_request" | "not_deferred">
  | { ok: false; code: "hold_not_pending"; state: HoldState };
export type ReserveResult =
  /** `pass_id`: the pass that serves the call (held for 0); absent when the call is paid. */
  | { ok: true; hold_id: string; agent_key_id: string; amount: number; available: number; currency: string; pass_id?: string }
  | Failure<"invalid_key" | "account_frozen" | "key_frozen" | "idempotency_mismatch" | "idempotency_in_flight" | "invalid_amount" | "pass_required">
  | { ok: false; code: "idempotency_replay"; response: StoredResponse }
  | { ok: false; code: "rate_limited"; retry_after: number; detail: string }
  | { ok: false; code: MandateViolation; mandate_id: string; detail: string }
  | { ok: false; code: "insufficient_funds"; price: number; available: number; currency: string }
  | { ok: false; code: "currency_mismatch"; account_currency: string; service_currency: string };

export type CaptureResult =
  /** `refund`: the capture's automatic refund, when one was asked for and there was a charge. */
  | { ok: true; hold: Hold; transfer: Transfer | null; refund?: Transfer; balance: Balance }
  | Failure<"unknown_hold" | "amount_exceeds_hold" | "invalid_amount">
  | { ok: false; code: "hold_not_pending"; state: HoldState };

export type CaptureInput = { holdId: string; amount: number; detail?: CaptureDetail; refund?: AutoRefund };
export type ReleaseInput = { holdId: string; reason: string };

export type ExtendResult = { ok: true; expires_at: string } | Failure<"unknown_hold"> | { ok: false; code: "hold_not_pending"; state: HoldState };

/** A released hold keeps the state `voided` (storage and APIs); only the method is `release`. */
export type ReleaseResult = { ok: true; hold: Hold; balance: Balance } | Failure<"unknown_hold"> | { ok: false; code: "hold_not_pending"; state: HoldState };

export type Page<T> = { data: T[]; next_cursor: string | null };

export type NotFound = Failure<"not_found">;

export type CreateKeyInput = { id: string; name: string; keyHash: string; mandateId?: string | null; limits?: KeyLimits; actor: Actor };
export type CreateKeyResult = { ok: true; key: AgentKey } | Failure<"not_found" | "mandate_not_found" | "mandate_revoked">;
export type KeyResult = { ok: true; key: AgentKey } | NotFound;
export type MandateResult = { ok: true; mandate: Mandate } | NotFound;

export type AgentView =
  | { ok: true; account_id: string; key: AgentKey; balance: Balance; mandate: Mandate | null; mandate_used_today: number | null }
  | Failure<"invalid_key">;
