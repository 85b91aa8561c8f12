import { z } from "@hono/zod-openapi";
import { PriceRule } from "../../core/pricing/rules";
import { PlanView, Protocol } from "./schema";
import type { Service } from "./store";

/** What anyone may know of a service's prices: `GET /v1/services/{id}/pricing` and the MCP `get_pricing` tool. */
export const Pricing = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    currency: z.string(),
    currency_note: z.string(),
    prices: z.array(PriceRule),
    protocol: Protocol,
    plans: z.array(PlanView),
    plans_note: z.string(),
  })
  .openapi("Pricing");
export type Pricing = z.infer<typeof Pricing>;

const PLANS_NOTE =
  "A pass, bought once at a plan's price, covers the calls its match fits until duration_s has passed or its calls are used, whichever comes first; calls a pass_only plan matches are refused without one.";

export function publicPricing(service: Service): Pricing {
  return {
    id: service.id,
    slug: service.slug,
    name: service.name,
    currency: service.currency,
    currency_note: `Amounts are micro-units of ${service.currency}; only accounts in ${service.currency} may call this service.`,
    prices: service.prices,
    protocol: service.protocol,
    plans: service.plans,
    plans_note: PLANS_NOTE,
  };
}
