import { z } from "zod";
import { buyPass } from "../../payments/buy-pass";
import { Pass, PassBuy } from "../../routes/passes";
import { agentOf, type ToolRegistrar } from "../context";
import { answer, outputOf } from "../results";

export const registerBuyPass: ToolRegistrar = (server, ctx) => {
  server.registerTool(
    "buy_pass",
    {
      title: "Buy a pass",
      description:
        "Buys a pass of a service's plan (plan ids are in get_pricing), paid from the balance under this key's mandate, as POST /v1/passes. A refusal is an error result with its reason.",
      inputSchema: z
        .object({
          ...PassBuy.shape,
          idempotency_key: z.string().min(1).max(255).optional().describe("Makes the purchase safe to retry: a retry with the same key buys once."),
        })
        .strict(),
      outputSchema: outputOf({ pass: Pass, replayed: z.boolean().describe("True when this answers an earlier purchase with the same idempotency_key.") }),
      annotations: { readOnlyHint: false, idempotentHint: false },
    },
    ({ plan_id, auto_renew, idempotency_key }, extra) =>
      answer(async () => {
        const { accountId, keyHash } = agentOf(extra);
        return buyPass(ctx.env, { accountId, keyHash }, { plan_id, auto_renew }, idempotency_key ?? null);
      }),
  );
};
