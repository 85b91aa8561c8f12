/**
 * The shapes the simulation's reference model (model.ts) keeps and answers with: its keys, holds,
 * journal and disputes, the audit trail it expects, and each transition's outcome.
 */
import type { HoldState } from "../../durable-objects/types";

export type ModelKey = { id: string; hash: string; revoked: boolean };

export type ModelHold = {
  id: string;
  requestId: string;
  keyIdx: number;
  amount: number;
  feeBps: number;
  providerId: string;
  state: HoldState;
  captured: number | null;
  reason: string | null;
  /** Overdue (a 1 ms ttl, or its time has passed): the alarm of the same step expires it. */
  tiny: boolean;
  /** A capture came after it expired: recorded once on the audit trail (event `uncollected`). */
  uncollected?: boolean;
};

export type ModelTransfer = {
  id: string | null;
  kind: "credit" | "capture" | "refund" | "compensation" | "repayment";
  amount: number;
  fee: number;
  holdId: string | null;
};

/** A dispute of a capture (`captureIdx`: its place in the journal). */
export type ModelDispute = {
  id: string;
  captureIdx: number;
  reason: string;
  amount: number;
  compensated: number;
  status: "open" | "won_by_payer" | "won_by_provider";
};

export type RefundOutcome = { kind: "ok"; fee: number } | { kind: "refund_exceeds_charge"; refundable: number };
export type DisputeOutcome = { kind: "ok"; amount: number; compensated: number } | { kind: "dispute_exists" } | { kind: "nothing_to_dispute" };

/** What one audit event must say (the chain itself is checked by verifyChain). */
export type AuditExpect = { event: string; outcome: string; amount: number | null; request_id: string | null; reason: string | null };
/** Events in a known order, or a group whose order is not fixed (racing calls, one alarm's expiries). */
export type AuditStep = AuditExpect | { unordered: AuditExpect[] };

export type CallKey = { fingerprint: string; holdIdx: number; response: StoredCall | null };
export type StoredCall = { status: number; headers: Record<string, string>; body: string | null; request_id: string; charge: number | null };

export type CreditOutcome = { kind: "new"; amount: number } | { kind: "replay"; first: unknown } | { kind: "mismatch" } | { kind: "not_found" };

export type ReserveOutcome =
  | { kind: "invalid_key" }
  | { kind: "idempotency_mismatch" }
  | { kind: "idempotency_in_flight" }
  | { kind: "idempotency_replay"; response: StoredCall }
  | { kind: "insufficient_funds"; available: number }
  | { kind: "ok"; available: number };

export type CaptureOutcome =
  | { kind: "unknown_hold" }
  | { kind: "hold_not_pending"; state: HoldState }
  | { kind: "amount_exceeds_hold" }
  | { kind: "ok"; transfer: boolean; fee: number };

export type VoidOutcome = { kind: "unknown_hold" } | { kind: "hold_not_pending"; state: HoldState } | { kind: "ok" };

export type D1Fault = { table: "transfers" | "ledger_entries" | "audit_events"; trigger: string };
