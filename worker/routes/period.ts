import { z } from "@hono/zod-openapi";

const Instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .openapi({ description: "ISO 8601 timestamp, or a date (UTC midnight).", example: "2026-06-01T00:00:00Z" });

/** `from` / `to` of a report (to exclusive); see worker/reports/period.ts for the defaults. */
export const PeriodQuery = z.object({
  from: Instant.optional().openapi({ description: "Start, inclusive. Default: 30 days before `to`." }),
  to: Instant.optional().openapi({ description: "End, exclusive. Default: now." }),
});
