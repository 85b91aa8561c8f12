import { z } from "zod";
import { db } from "../../db/client";
import { catalogCursor } from "../../routes/catalog";
import { CatalogEntry, listCatalog } from "../../services/catalog";
import type { ToolRegistrar } from "../context";
import { answer, outputOf } from "../results";

export const registerListServices: ToolRegistrar = (server, ctx) => {
  server.registerTool(
    "list_services",
    {
      title: "Service catalog",
      description: "The services listed in the public catalog (GET /v1/catalog): slug, name, currency, price rules and plans. Prices are micro-units.",
      inputSchema: z
        .object({
          limit: z.number().int().min(1).max(100).optional().describe("At most this many (1–100, default 20)."),
          cursor: z.string().max(200).optional().describe("next_cursor of the previous page."),
        })
        .strict(),
      outputSchema: outputOf({ data: z.array(CatalogEntry), next_cursor: z.string().nullable() }),
      annotations: { readOnlyHint: true },
    },
    ({ limit, cursor }) =>
      answer(async () => {
        const result = await listCatalog(db(ctx.env), limit ?? 20, catalogCursor.decode(cursor));
        return { data: result.data, next_cursor: catalogCursor.encode(result.last) };
      }),
  );
};
