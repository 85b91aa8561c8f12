import { z } from "@hono/zod-openapi";
import { MONTH } from "../reports/period";

const Instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .openapi({ description: "ISO 8601 timestamp, or a date (UTC midnight).", example: "2026-06-01T00:00:00Z" });

/** `from` / `to` of a report (to exclusive); see worker/reports/period.ts for the defaults. */
export const PeriodQuery = z.object({
  from: Instant.optional().openapi({ description: "Start, inclusive. Default: 30 days before `to`." }),
  to: Instant.optional().openapi({ description: "End, exclusive. Default: now." }),
});

/** A provider's or an account's id and a UTC calendar month, for monthly documents. */
export const MonthParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { in: "path", name: "id" } }),
  month: z
    .string()
    .regex(MONTH, "a UTC calendar month as YYYY-MM (01–12), e.g. 2026-03")
    .openapi({ param: { in: "path", name: "month" }, example: "2026-03" }),
});
