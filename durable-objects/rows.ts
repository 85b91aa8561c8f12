import type { Tags } from "../core/tags";
import { iso, isoOrNull, jsonOrNull, type Row, textOrNull } from "./sql";
import type { AgentKey, AuditEvent, Hold, Mandate, Transfer } from "./types";

/** Row → plain result object mappers for the AccountLedger's tables. */

export function toTransfer(r: Row, currency: string): Transfer {
  return {
    id: String(r.id),
    seq: Number(r.seq),
    kind: String(r.kind) as Transfer["kind"],
    amount: Number(r.amount),
    fee: Number(r.fee),
    currency,
    hold_id: textOrNull(r.hold_id),
    request_id: textOrNull(r.request_id),
    service_id: textOrNull(r.service_id),
    provider_id: textOrNull(r.provider_id),
    agent_key_id: textOrNull(r.agent_key_id),
    mandate_id: textOrNull(r.mandate_id),
    tags: jsonOrNull<Tags>(r.tags),
    reference: textOrNull(r.reference),
    usage: jsonOrNull<Transfer["usage"]>(r.usage),
    shortfall: Number(r.shortfall ?? 0),
    reason: textOrNull(r.reason),
    refund_of: textOrNull(r.refund_of),
    dispute_id: textOrNull(r.dispute_id),
    created_at: iso(r.created_at),
  };
}

export function toHold(r: Row): Hold {
  return {
    id: String(r.id),
    request_id: String(r.request_id),
    agent_key_id: String(r.agent_key_id),
    service_id: String(r.service_id),
    provider_id: String(r.provider_id),
    fee_bps: Number(r.fee_bps),
    amount: Number(r.amount),
    captured: r.captured == null ? null : Number(r.captured),
    state: String(r.state) as Hold["state"],
    reason: textOrNull(r.reason),
    created_at: iso(r.created_at),
    expires_at: iso(r.expires_at),
    resolved_at: isoOrNull(r.resolved_at),
    deferred: r.rule != null,
    mandate_id: textOrNull(r.mandate_id),
    tags: jsonOrNull<Tags>(r.tags),
    pass_id: textOrNull(r.pass_id),
  };
}

export function toAgentKey(r: Row): AgentKey {
  return {
    id: String(r.id),
    name: String(r.name),
    mandate_id: textOrNull(r.mandate_id),
    max_calls_per_minute: r.max_calls_per_minute == null ? null : Number(r.max_calls_per_minute),
    max_spend_per_minute: r.max_spend_per_minute == null ? null : Number(r.max_spend_per_minute),
    created_at: iso(r.created_at),
    revoked_at: isoOrNull(r.revoked_at),
    frozen_at: isoOrNull(r.frozen_at),
  };
}

export function toMandate(r: Row): Mandate {
  return {
    id: String(r.id),
    intent: String(r.intent),
    intent_hash: String(r.intent_hash),
    max_total: Number(r.max_total),
    max_per_call: Number(r.max_per_call),
    max_per_day: r.max_per_day == null ? null : Number(r.max_per_day),
    valid_from: iso(r.valid_from),
    valid_until: iso(r.valid_until),
    services: jsonOrNull<string[]>(r.services),
    tags: jsonOrNull<Tags>(r.tags),
    created_at: iso(r.created_at),
    revoked_at: isoOrNull(r.revoked_at),
    spent: Number(r.spent),
    pending: Number(r.pending),
    max_tip: r.max_tip == null ? null : Number(r.max_tip),
  };
}

export function toAuditEvent(r: Row, accountId: string): AuditEvent {
  return {
    account_id: accountId,
    seq: Number(r.seq),
    at: iso(r.at),
    actor: String(r.actor),
    event: String(r.event),
    agent_key_id: textOrNull(r.agent_key_id),
    mandate_id: textOrNull(r.mandate_id),
    intent_hash: textOrNull(r.intent_hash),
    service_id: textOrNull(r.service_id),
    request_id: textOrNull(r.request_id),
    amount: r.amount == null ? null : Number(r.amount),
    outcome: String(r.outcome),
    reason: textOrNull(r.reason),
    prev_hash: String(r.prev_hash),
    hash: String(r.hash),
  };
}
