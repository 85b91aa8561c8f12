/**
 * Plain result types of the AccountLedger's RPC surface. Results are discriminated unions of
 * plain objects (structured-clone safe), never class instances or thrown errors.
 */

import type { PriceRule, Usage } from "../worker/pricing/rules";

export type Balance = { currency: string; posted: number; pending: number; available: number };

export type TransferKind = "credit" | "capture";

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
  reference: string | null;
  /** What the call used (metered rules), and whether part of it is an estimate. */
  usage: (Usage & { estimated?: boolean }) | null;
  /** What the usage cost beyond the hold, which could not be captured (visible to the provider). */
  shortfall: number;
  /** Why the capture settled as it did, e.g. `origin_succeeded`, `client_disconnected`. */
  reason: string | null;
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
};

export type AgentKey = { id: string; name: string; created_at: string; revoked_at: string | null };

export type Failure<C extends string> = { ok: false; code: C; detail?: string };

export type OpenResult = { ok: true; account_id: string; currency: string } | Failure<"conflict">;

export type CreditInput = {
  amount: number;
  reference: string | null;
  /** Optional caller-chosen key; with `fingerprint`, makes the credit idempotent (I3). */
  idempotencyKey: string | null;
  fingerprint: string;
};
export type CreditResult =
  | { ok: true; replayed: boolean; transfer: Transfer; balance: Balance }
  | Failure<"not_found" | "idempotency_mismatch">;

export type ReserveInput = {
  keyHash: string;
  requestId: string;
  serviceId: string;
  providerId: string;
  feeBps: number;
  amount: number;
  /** How long the call may take before the hold is expired by the alarm. */
  ttlMs: number;
  /** For a hold settled later by the provider's usage report: the rule that prices it. */
  deferredRule?: PriceRule | null;
};

export type CaptureDetail = { usage?: Usage & { estimated?: boolean }; shortfall?: number; reason?: string };

export type UsageReportResult =
  | { ok: true; hold: Hold; transfer: Transfer | null }
  | Failure<"unknown_request" | "not_deferred">
  | { ok: false; code: "hold_not_pending"; state: HoldState };
export type ReserveResult =
  | { ok: true; hold_id: string; agent_key_id: string; amount: number; available: number; currency: string }
  | Failure<"invalid_key">
  | { ok: false; code: "insufficient_funds"; price: number; available: number; currency: string };

export type CaptureResult =
  | { ok: true; hold: Hold; transfer: Transfer | null; balance: Balance }
  | Failure<"unknown_hold" | "amount_exceeds_hold">
  | { ok: false; code: "hold_not_pending"; state: HoldState };

export type VoidResult =
  | { ok: true; hold: Hold; balance: Balance }
  | Failure<"unknown_hold">
  | { ok: false; code: "hold_not_pending"; state: HoldState };

export type Page<T> = { data: T[]; next_cursor: string | null };

export type AgentView =
  | { ok: true; account_id: string; key: AgentKey; balance: Balance }
  | Failure<"invalid_key">;
