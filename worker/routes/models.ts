import { z } from "@hono/zod-openapi";

/** Response models shared by several routes (documented in /openapi.json). */

export const Balance = z
  .object({
    currency: z.string(),
    posted: z.number().int().openapi({ description: "Settled money: credits minus captured debits." }),
    pending: z.number().int().openapi({ description: "Held for calls in flight." }),
    available: z.number().int().openapi({ description: "posted − pending; never negative." }),
  })
  .openapi("Balance");

export const Transfer = z
  .object({
    id: z.string(),
    seq: z.number().int().openapi({ description: "Gapless per-account journal sequence." }),
    kind: z.enum(["credit", "capture", "refund", "compensation", "repayment", "tip"]).openapi({
      description:
        "A refund credits the payer back part or all of a capture; a compensation credits the payer from the platform's compensation account when it disputes a charge as unauthorized; a repayment returns that compensation when the provider's earnings refund the charge; a tip is a gift to a service's provider. A pass's purchase or renewal is a capture with no hold (`reason` pass_purchase or pass_renewal, `reference` the pass).",
    }),
    amount: z.number().int(),
    fee: z.number().int().openapi({ description: "Platform fee within `amount` (captures); for a refund, the part of the capture's fee it returns." }),
    currency: z.string(),
    hold_id: z.string().nullable(),
    request_id: z.string().nullable(),
    service_id: z.string().nullable(),
    provider_id: z.string().nullable(),
    agent_key_id: z.string().nullable(),
    mandate_id: z.string().nullable(),
    tags: z.record(z.string(), z.string()).nullable(),
    reference: z.string().nullable(),
    usage: z
      .object({
        input_tokens: z.number().int().optional(),
        cached_input_tokens: z.number().int().optional(),
        output_tokens: z.number().int().optional(),
        bytes: z.number().int().optional(),
        ms: z.number().int().optional(),
        units: z.number().int().optional(),
        estimated: z.boolean().optional(),
      })
      .nullable()
      .openapi({ description: "What a metered call used; `estimated` when the origin reported no usage." }),
    shortfall: z.number().int().openapi({ description: "Usage cost beyond the hold, not captured." }),
    reason: z.string().nullable().openapi({ description: "Why it settled so: origin_succeeded, client_disconnected, origin_failed, usage_reported…" }),
    refund_of: z.string().nullable().openapi({ description: "A refund's capture; null for other kinds." }),
    dispute_id: z.string().nullable().openapi({ description: "The dispute a compensation, a repayment or a dispute's refund settles; null otherwise." }),
    created_at: z.string(),
  })
  .openapi("Transfer");

export const AgentKey = z
  .object({
    id: z.string(),
    name: z.string(),
    mandate_id: z.string().nullable(),
    max_calls_per_minute: z.number().int().nullable(),
    max_spend_per_minute: z.number().int().nullable(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    frozen_at: z.string().nullable(),
  })
  .openapi("AgentKey");

export const Mandate = z
  .object({
    id: z.string(),
    intent: z.string().openapi({ description: "The user's own words for what the agent may do." }),
    intent_hash: z.string().openapi({ description: "SHA-256 of the intent, as the audit trail records it." }),
    max_total: z.number().int(),
    max_per_call: z.number().int(),
    max_per_day: z.number().int().nullable(),
    valid_from: z.string(),
    valid_until: z.string(),
    services: z.array(z.string()).nullable(),
    tags: z.record(z.string(), z.string()).nullable(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    spent: z.number().int(),
    pending: z.number().int(),
    max_tip: z.number().int().nullable().openapi({ description: "The most one tip may be: 0 forbids tips; null allows them within the other limits." }),
  })
  .openapi("Mandate");

export function page<T extends z.ZodTypeAny>(item: T, name: string) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() }).openapi(name);
}
