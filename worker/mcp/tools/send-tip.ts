import { z } from "zod";
import { sendTip } from "../../payments/send-tip";
import { Tip, TipCreate } from "../../routes/tips";
import { agentOf, type ToolRegistrar } from "../context";
import { answer, outputOf } from "../results";

export const registerSendTip: ToolRegistrar = (server, ctx) => {
  server.registerTool(
    "send_tip",
    {
      title: "Tip a provider",
      description: "Tips a service's provider from the balance, within this key's mandate (its max_tip), as POST /v1/tips. Amounts are micro-units.",
      inputSchema: z
        .object({
          ...TipCreate.shape,
          idempotency_key: z.string().min(1).max(255).optional().describe("Makes the tip safe to retry: a retry with the same key tips once."),
        })
        .strict(),
      outputSchema: outputOf({ tip: Tip, replayed: z.boolean().describe("True when this answers an earlier tip with the same idempotency_key.") }),
      annotations: { readOnlyHint: false, idempotentHint: false },
    },
    ({ service_id, amount, message, idempotency_key }, extra) =>
      answer(async () => {
        const { accountId, keyHash } = agentOf(extra);
        return sendTip(ctx.env, { accountId, keyHash }, { service_id, amount, message }, idempotency_key ?? null);
      }),
  );
};
