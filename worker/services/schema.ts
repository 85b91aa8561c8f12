import { z } from "@hono/zod-openapi";
import { PlanInputs } from "../../core/pricing/plans";
import { CallMatch, PriceRules, PROTOCOLS } from "../../core/pricing/rules";
// The same ISO 4217 rule as an account's currency: a service and an account match by equality.
import { Currency } from "../routes/common";

export const Slug = z.string().regex(/^[a-z0-9-]{2,63}$/, "2–63 characters of a-z, 0-9 and -");

/**
 * A DNS name, lower case, at least two labels (a custom domain pointed at the gateway). The last
 * label has a letter: no top-level domain is all digits, so an IPv4 address is not a hostname.
 */
export const Hostname = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "a lower-case DNS name");

/**
 * The origin: an absolute http(s) URL with no credentials, query or fragment. It comes only
 * from here (provider configuration), never from a request.
 */
export const Origin = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const u = new URL(value);
      return (u.protocol === "http:" || u.protocol === "https:") && !u.username && !u.password && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, "an absolute http(s) URL without credentials, query or fragment");

export const Protocol = z.enum(PROTOCOLS).openapi({ description: "`http` (default) or `mcp`: an MCP server whose tool calls are priced by `match.mcp_tool`." });

export const TimeoutMs = z.number().int().min(100).max(120_000);
/** Up to 7 days: how long a deferred-usage hold waits for the provider's `POST /v1/usage`. */
export const HoldTimeoutS = z.number().int().min(1).max(604_800);
export const FeeBps = z.number().int().min(0).max(10_000);

/**
 * The service's latency promise (docs/REFUNDS.md, "Automatic refunds by outcome"): a call whose
 * origin answered (its response headers) slower than `max_latency_ms` is refunded in full at
 * settlement when `refund` is `full`; `none` states the promise without refunds. Up to 10 minutes,
 * independent of `timeout_ms`: a call slower than the timeout is voided and costs nothing anyway.
 */
export const Sla = z
  .object({
    max_latency_ms: z.number().int().min(1).max(600_000),
    refund: z.enum(["full", "none"]),
  })
  .strict()
  .openapi("ServiceSla");
export type Sla = z.infer<typeof Sla>;

/** A plan as stored and shown (core/pricing/plans.ts `Plan`). */
export const PlanView = z
  .object({
    id: z.string().openapi({ example: "pln_0123456789abcdefghij" }),
    name: z.string(),
    price: z.number().int().openapi({ description: "Micro-units of the service's currency, paid once for the pass." }),
    duration_s: z.number().int().nullable().openapi({ description: "How long a pass lasts from purchase; null: until its calls are used." }),
    calls: z.number().int().nullable().openapi({ description: "How many calls a pass covers; null: unlimited while it lasts." }),
    match: CallMatch.openapi({ description: "The calls a pass covers, as a price rule's match; empty: every call." }),
    pass_only: z.boolean().openapi({ description: "Calls this plan matches are refused to an agent without a pass." }),
  })
  .openapi("Plan");

export const ServiceCreate = z
  .object({
    slug: Slug,
    name: z.string().min(1).max(200),
    origin: Origin,
    hostnames: z
      .array(Hostname)
      .max(20)
      .refine((h) => new Set(h).size === h.length, "hostnames must be unique")
      .default([]),
    prices: PriceRules,
    /** `mcp`: the origin is an MCP server (Streamable HTTP); its tool calls are priced by `mcp_tool` (docs/METERING.md). */
    protocol: Protocol.default("http"),
    /** The prices' currency; only accounts in it may call the service. Fixed once created. */
    currency: Currency.default("USD"),
    timeout_ms: TimeoutMs.default(30_000),
    hold_timeout_s: HoldTimeoutS.default(3600),
    /** Operator only: the platform's take rate on this service, overriding the global default. */
    fee_bps: FeeBps.optional(),
    /** null or absent: no SLA. */
    sla: Sla.nullable().default(null),
    /** Passes agents can buy; absent or empty: none. */
    plans: PlanInputs.optional(),
    /** Shown in the public catalog (GET /v1/catalog); unlisted services are still callable by slug. */
    listed: z.boolean().default(false),
    /** Operator only: the provider the service belongs to. */
    provider_id: z.string().max(64).optional(),
  })
  .strict()
  .openapi("ServiceCreate");

export const ServicePatch = z
  .object({
    name: z.string().min(1).max(200).optional(),
    origin: Origin.optional(),
    hostnames: ServiceCreate.shape.hostnames.unwrap().optional(),
    prices: PriceRules.optional(),
    protocol: Protocol.optional(),
    /** Accepted only unchanged (so a client may send the service back whole): see the route. */
    currency: Currency.optional(),
    timeout_ms: TimeoutMs.optional(),
    hold_timeout_s: HoldTimeoutS.optional(),
    fee_bps: FeeBps.nullable().optional(),
    /** null clears the SLA. */
    sla: Sla.nullable().optional(),
    /** Replaces the list: keep a plan by sending its `id`, drop it by leaving it out. */
    plans: PlanInputs.optional(),
    listed: z.boolean().optional(),
  })
  .strict()
  .openapi("ServicePatch");

export type ServiceCreate = z.infer<typeof ServiceCreate>;
export type ServicePatch = z.infer<typeof ServicePatch>;
