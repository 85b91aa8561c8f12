import { z } from "zod";
import { agentSelf } from "../../auth/agent-view";
import { Balance } from "../../routes/models";
import { agentOf, type ToolRegistrar } from "../context";
import { answer, outputOf } from "../results";

const MandateLeft = z.object({
  id: z.string(),
  intent: z.string(),
  max_total: z.number().int(),
  max_per_call: z.number().int(),
  max_per_day: z.number().int().nullable(),
  spent: z.number().int(),
  pending: z.number().int(),
  left_total: z.number().int().describe("max_total − spent − pending: what the mandate still allows in all."),
  used_today: z.number().int().describe("Spent and held today (UTC day), as the daily cap counts it."),
  left_today: z.number().int().nullable().describe("max_per_day − used_today; null: no daily cap."),
  valid_until: z.string(),
  services: z.array(z.string()).nullable().describe("The only service slugs it allows; null: any."),
  max_tip: z.number().int().nullable(),
  revoked: z.boolean(),
});

const Output = {
  account_id: z.string(),
  key_id: z.string(),
  balance: Balance,
  mandate: MandateLeft.nullable().describe("The key's mandate and what is left of it; null: bounded only by the balance."),
  can_spend: z.number().int().describe("The most one payment can be now: the available balance, within what the mandate has left."),
};

export const registerGetBalance: ToolRegistrar = (server, ctx) => {
  server.registerTool(
    "get_balance",
    {
      title: "Balance and limits",
      description:
        "The account's balance (micro-units of its currency) and, when this key has a mandate, what is left of it today and in total. Read before spending.",
      outputSchema: outputOf(Output),
      annotations: { readOnlyHint: true },
    },
    (extra) =>
      answer(async () => {
        const self = await agentSelf(ctx.env, agentOf(extra));
        const m = self.mandate;
        const mandate = m && {
          id: m.id,
          intent: m.intent,
          max_total: m.max_total,
          max_per_call: m.max_per_call,
          max_per_day: m.max_per_day,
          spent: m.spent,
          pending: m.pending,
          left_total: Math.max(0, m.max_total - m.spent - m.pending),
          used_today: self.mandate_used_today ?? 0,
          left_today: m.max_per_day === null ? null : Math.max(0, m.max_per_day - (self.mandate_used_today ?? 0)),
          valid_until: m.valid_until,
          services: m.services,
          max_tip: m.max_tip,
          revoked: m.revoked_at !== null,
        };
        const limits = mandate ? [mandate.left_total, mandate.max_per_call, mandate.left_today ?? Number.MAX_SAFE_INTEGER] : [];
        const canSpend = mandate?.revoked ? 0 : Math.min(self.balance.available, ...limits);
        return { account_id: self.account_id, key_id: self.key.id, balance: self.balance, mandate, can_spend: canSpend };
      }),
  );
};
