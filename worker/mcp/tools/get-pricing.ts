import { z } from "zod";
import { db } from "../../db/client";
import { ApiError } from "../../errors";
import { Pricing, publicPricing } from "../../services/public-pricing";
import { Slug } from "../../services/schema";
import { findServiceBySlug, getService } from "../../services/store";
import type { ToolRegistrar } from "../context";
import { answer, outputOf } from "../results";

export const registerGetPricing: ToolRegistrar = (server, ctx) => {
  server.registerTool(
    "get_pricing",
    {
      title: "A service's pricing",
      description: "What calls to a service cost and the passes it sells (as GET /v1/services/{id}/pricing). Give service_id or slug.",
      inputSchema: z
        .object({
          service_id: z.string().min(1).max(64).optional().describe("The service's id (svc_…)."),
          slug: Slug.optional().describe("The service's slug (as in /s/{slug}/…)."),
        })
        .strict(),
      outputSchema: outputOf(Pricing.shape),
      annotations: { readOnlyHint: true },
    },
    ({ service_id, slug }) =>
      answer(async () => {
        if ((service_id === undefined) === (slug === undefined)) throw new ApiError("invalid_request", "Give exactly one of service_id and slug.");
        const service = service_id !== undefined ? await getService(db(ctx.env), service_id) : await findServiceBySlug(db(ctx.env), slug as string);
        if (!service) throw new ApiError("not_found", "No such service.");
        return publicPricing(service);
      }),
  );
};
