import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { requireAccountAccess } from "../auth/principal";
import type { Principal } from "../auth/roles";
import { getAccount } from "../accounts/store";
import { db } from "../db/client";
import { providers } from "../db/schema";
import { ApiError } from "../errors";
import { accountInvoice } from "../reports/invoice";
import { invoiceCsv } from "../reports/invoice-csv";
import { invoiceHtml } from "../reports/invoice-html";
import { monthPeriod } from "../reports/period";
import { providerStatement } from "../reports/statement";
import { statementCsv } from "../reports/statement-csv";
import { bearer, errors, router } from "./common";
import { MonthParams } from "./period";
import { AccountInvoice, ProviderStatement } from "./statement-models";

/** A text download's body in /openapi.json. */
const TextBody = { schema: z.string().openapi({ format: "binary" }) };

/** The provider itself or the operator; anyone else gets the 404 of a provider that does not exist. */
function requireProviderAccess(p: Principal, providerId: string): void {
  if (p.role === "operator" || (p.role === "provider" && p.providerId === providerId)) return;
  throw new ApiError("not_found", "No such provider.");
}

/** A download: the body with its type, named after the document, never cached (it changes until final). */
function download(body: string, type: string, filename: string, attachment: boolean): Response {
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": `${type}; charset=utf-8`,
      "content-disposition": `${attachment ? "attachment" : "inline"}; filename="${filename}"`,
      "cache-control": "no-store",
    },
  });
}

/** Monthly documents from the settled ledger: a provider's statement, an account's invoice. */
export const statementRoutes = router()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/providers/{id}/statements/{month}",
      summary: "The provider's statement for a UTC month: balances, earnings per service, refunds, disputes, payouts (the provider, operator)",
      description: "Per currency: opening_balance + Σ services' net + refunds + disputes + tips + payouts = closing_balance, exactly. See docs/STATEMENTS.md.",
      security: bearer,
      request: {
        params: MonthParams,
        query: z.object({ format: z.enum(["json", "csv"]).default("json").openapi({ description: "`csv`: one record per figure (RFC 4180)." }) }),
      },
      responses: {
        200: { description: "OK", content: { "application/json": { schema: ProviderStatement }, "text/csv": TextBody } },
        ...errors(400, 401, 404, 422),
      },
    }),
    async (c) => {
      const { id, month } = c.req.valid("param");
      requireProviderAccess(c.var.principal, id);
      const period = monthPeriod(month);
      const provider = await db(c.env).select({ id: providers.id, name: providers.name }).from(providers).where(eq(providers.id, id)).get();
      if (!provider) throw new ApiError("not_found", "No such provider.");
      const statement = await providerStatement(c.env.DB, provider, month, period);
      if (c.req.valid("query").format === "csv") return download(statementCsv(statement), "text/csv", `tollgate-statement-${id}-${month}.csv`, true);
      return c.json(statement, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/accounts/{id}/invoices/{month}",
      summary: "The account's invoice for a UTC month: charges per service with tag subtotals, credits, debits (owner, operator)",
      description: "`format=html` is a printable page. The number is TG-<YYYYMM>-<account id tail>: stable, one per account and month. See docs/STATEMENTS.md.",
      security: bearer,
      request: {
        params: MonthParams,
        query: z.object({
          format: z.enum(["json", "csv", "html"]).default("json").openapi({ description: "`csv`: one record per line (RFC 4180); `html`: a printable page." }),
        }),
      },
      responses: {
        200: { description: "OK", content: { "application/json": { schema: AccountInvoice }, "text/csv": TextBody, "text/html": TextBody } },
        ...errors(400, 401, 404, 422),
      },
    }),
    async (c) => {
      const { id, month } = c.req.valid("param");
      requireAccountAccess(c.var.principal, id);
      const period = monthPeriod(month);
      const account = await getAccount(db(c.env), id);
      if (!account) throw new ApiError("not_found", "No such account.");
      const invoice = await accountInvoice(c.env.DB, account, month, period);
      const format = c.req.valid("query").format;
      if (format === "csv") return download(invoiceCsv(invoice), "text/csv", `${invoice.invoice_number}.csv`, true);
      if (format === "html") return download(invoiceHtml(invoice), "text/html", `${invoice.invoice_number}.html`, false);
      return c.json(invoice, 200);
    },
  );
