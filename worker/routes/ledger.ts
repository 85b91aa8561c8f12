import { createRoute, z } from "@hono/zod-openapi";
import type { Principal } from "../auth/roles";
import { ApiError } from "../errors";
import { type EntryPosition, type EntryScope, journalCsvStream, journalEntries } from "../reports/entries";
import { resolvePeriod } from "../reports/period";
import { bearer, errors, Pagination, router } from "./common";
import { cursorOf } from "./cursor";
import { PeriodQuery } from "./period";

/** Entries continue after `created_at:account_id:seq:leg`, the listing's order. */
const ENTRY_POSITION = /^(\d{1,16}):(acct_[0-9a-z]{1,40}):(\d{1,16}):(\d{1,4})$/;
const entryCursor = cursorOf(
  z.codec(z.string().regex(ENTRY_POSITION), z.object({ createdAt: z.number(), accountId: z.string(), seq: z.number(), leg: z.number() }), {
    decode: (text): EntryPosition => {
      const m = ENTRY_POSITION.exec(text);
      return { createdAt: Number(m?.[1]), accountId: String(m?.[2]), seq: Number(m?.[3]), leg: Number(m?.[4]) };
    },
    encode: (p) => `${p.createdAt}:${p.accountId}:${p.seq}:${p.leg}`,
  }),
);

const EntriesQuery = PeriodQuery.extend(Pagination.shape).extend({
  format: z.enum(["json", "csv"]).default("json").openapi({ description: "`csv`: the whole period as one download (limit and cursor do not apply)." }),
});

const JournalEntry = z
  .object({
    id: z.string().openapi({ description: "Stable: `<transfer_id>:<leg>`." }),
    date: z.string().openapi({ description: "UTC date, YYYY-MM-DD." }),
    created_at: z.string(),
    debit_account: z.string().nullable().openapi({ description: "Ledger account debited: acct_…, prov_…, platform or external." }),
    credit_account: z.string().openapi({ description: "Ledger account credited." }),
    amount: z.number().int().openapi({ description: "Micro-units, positive." }),
    currency: z.string(),
    transfer_id: z.string(),
    transfer_kind: z.string(),
    account_id: z.string().openapi({ description: "The payer account whose journal holds the transfer." }),
    seq: z.number().int(),
    leg: z.number().int(),
    service_id: z.string().nullable(),
    request_id: z.string().nullable(),
    mandate_id: z.string().nullable(),
    reference: z.string().nullable(),
    tags: z.record(z.string(), z.string()).nullable(),
  })
  .openapi("JournalEntry");

const JournalEntryPage = z.object({ data: z.array(JournalEntry), next_cursor: z.string().nullable() }).openapi("JournalEntryPage");

/** What a principal may see of the general ledger. */
function scopeOf(p: Principal): EntryScope {
  switch (p.role) {
    case "operator":
      return { all: true };
    case "provider":
      return { providerId: p.providerId };
    case "owner":
      return { accountId: p.accountId };
    case "agent":
      throw new ApiError("forbidden", "The ledger is for the operator, providers and account owners.");
  }
}

/** The double-entry journal for accounting systems, as JSON pages or one CSV download. */
export const ledgerRoutes = router().openapi(
  createRoute({
    method: "get",
    path: "/v1/ledger/entries",
    summary: "Journal entries (debit, credit, amount) in a period: operator all, provider its services, owner its account",
    description:
      "Ordered by (created_at, account_id, seq, leg). CSV is RFC 4180 with CRLF line ends and a header row; text that " +
      "a spreadsheet would read as a formula is prefixed with '. A period that ended a few minutes ago is final.",
    security: bearer,
    request: { query: EntriesQuery },
    responses: {
      200: {
        description: "OK",
        content: { "application/json": { schema: JournalEntryPage }, "text/csv": { schema: z.string().openapi({ format: "binary" }) } },
      },
      ...errors(400, 401, 403),
    },
  }),
  async (c) => {
    const scope = scopeOf(c.var.principal);
    const q = c.req.valid("query");
    const period = resolvePeriod(q.from, q.to);
    if (q.format === "csv") {
      const name = `tollgate-ledger-${stamp(period.from)}-${stamp(period.to)}.csv`;
      return new Response(journalCsvStream(c.env.DB, scope, period), {
        status: 200,
        headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${name}"`, "cache-control": "no-store" },
      });
    }
    const page = await journalEntries(c.env.DB, scope, period, q.limit, entryCursor.decode(q.cursor));
    return c.json({ data: page.data, next_cursor: entryCursor.encode(page.next) }, 200);
  },
);

/** `20260601T000000Z`: a timestamp that is safe in a file name. */
function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}/, "")
    .replaceAll("-", "")
    .replaceAll(":", "");
}
