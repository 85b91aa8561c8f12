import { z } from "@hono/zod-openapi";

/** The response schemas of the monthly documents (see worker/reports/statement.ts and invoice.ts). */

const Micro = (description: string) =>
  z
    .number()
    .int()
    .openapi({ description: `${description} Micro-units.` });

const StatementService = z.object({
  service_id: z.string().nullable(),
  name: z.string().nullable(),
  calls: z.number().int().openapi({ description: "Calls charged in the month (captures that settled a hold)." }),
  passes_sold: z.number().int().openapi({ description: "Passes bought or renewed in the month (captures with no hold)." }),
  units: z.number().int().openapi({ description: "Σ usage units the calls reported." }),
  gross: Micro("Σ the charges' amounts: calls and pass sales."),
  fees: Micro("Σ the platform fees within gross."),
  net: Micro("gross − fees: what the provider was credited."),
});

export const ProviderStatement = z
  .object({
    provider_id: z.string(),
    provider_name: z.string(),
    month: z.string().openapi({ example: "2026-03" }),
    from: z.string(),
    to: z.string().openapi({ description: "Exclusive: the next month's first instant (UTC)." }),
    final: z.boolean().openapi({ description: "The month ended over 5 minutes ago: the export has caught up and the figures no longer change." }),
    currencies: z.array(
      z.object({
        currency: z.string(),
        opening_balance: Micro("Σ the provider's legs before the month."),
        services: z.array(StatementService),
        refunds: Micro("Σ the provider's legs of plain refunds in the month (≤ 0)."),
        disputes: Micro("Σ the provider's legs of refunds that settled a dispute (≤ 0)."),
        tips: Micro("Σ the provider's legs of tips in the month (≥ 0: tips less the platform's fee)."),
        payouts: Micro("Σ the provider's payout legs in the month (≤ 0)."),
        closing_balance: Micro("Σ the provider's legs up to the month's end = opening + Σ net + refunds + disputes + tips + payouts."),
      }),
    ),
  })
  .openapi("ProviderStatement");

const Adjustment = z.object({
  kind: z.enum(["refund", "dispute_refund", "compensation", "repayment", "tip"]),
  service_id: z.string().nullable(),
  name: z.string().nullable(),
  count: z.number().int(),
  amount: Micro("Positive."),
});

export const AccountInvoice = z
  .object({
    invoice_number: z
      .string()
      .openapi({ description: "TG-<YYYYMM>-<account id after acct_, upper-case>: one per account and month.", example: "TG-202603-3K9X0C1V8B7N6M5L4K3J" }),
    account_id: z.string(),
    account_name: z.string(),
    currency: z.string(),
    month: z.string(),
    from: z.string(),
    to: z.string().openapi({ description: "Exclusive." }),
    final: z.boolean(),
    lines: z.array(
      z.object({
        service_id: z.string().nullable(),
        name: z.string().nullable(),
        calls: z.number().int().openapi({ description: "Calls charged (captures that settled a hold)." }),
        passes: z.number().int().openapi({ description: "Passes bought or renewed (captures with no hold); their amounts are in `amount`." }),
        amount: Micro("Σ the service's charges: calls and passes."),
        tags: z.array(z.object({ name: z.string(), value: z.string(), calls: z.number().int(), amount: Micro("Subtotal of the charges with this tag.") })),
      }),
    ),
    credits: z.array(Adjustment),
    debits: z.array(Adjustment),
    payments: z.object({ count: z.number().int(), amount: Micro("Top-ups received (not invoice lines).") }),
    totals: z.object({
      charges: Micro("Σ lines + Σ debits: the account's debit legs on those transfers."),
      credits: Micro("Σ credit lines: the account's credit legs on those transfers."),
      total: Micro("charges − credits."),
    }),
  })
  .openapi("AccountInvoice");
