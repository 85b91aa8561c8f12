import { z } from "zod";
import { sendQueuedCaptures } from "../../account-client/capture-queue";
import { ledgerFor } from "../../account-client/stub";
import { journalCursor } from "../../routes/accounts";
import { Transfer } from "../../routes/models";
import { agentOf, type ToolRegistrar } from "../context";
import { answer, outputOf } from "../results";

export const registerListTransfers: ToolRegistrar = (server, ctx) => {
  server.registerTool(
    "list_transfers",
    {
      title: "The account's journal",
      description: "The account's transfers (credits, charges, refunds, tips, passes), newest first, as its owner sees them: where the money went.",
      inputSchema: z
        .object({
          limit: z.number().int().min(1).max(100).optional().describe("At most this many (1–100, default 20)."),
          cursor: z.string().max(200).optional().describe("next_cursor of the previous page."),
        })
        .strict(),
      outputSchema: outputOf({ data: z.array(Transfer), next_cursor: z.string().nullable() }),
      annotations: { readOnlyHint: true },
    },
    ({ limit, cursor }, extra) =>
      answer(async () => {
        const { accountId } = agentOf(extra);
        const after = journalCursor.decode(cursor);
        // As for the owner's reads: calls this isolate served but has not yet sent are sent first.
        await sendQueuedCaptures(accountId, () => ledgerFor(ctx.env, accountId));
        const page = await ledgerFor(ctx.env, accountId).transfers(limit ?? 20, after);
        return { data: page.data, next_cursor: journalCursor.encode(page.next_cursor === null ? null : Number(page.next_cursor)) };
      }),
  );
};
