/** The ledger account that stands for money entering from outside (payment processors, invoices). */
export const EXTERNAL = "external";
/** The ledger account that collects platform fees. */
export const PLATFORM = "platform";

export type Leg = { ledgerAccount: string; amount: number };

/**
 * The double-entry legs of a journal transfer; they always sum to zero (I1). Credits (+) and
 * debits (−) are signed amounts. A zero fee leg is left out.
 */
/** What the legs of a transfer depend on (a journal transfer has these fields, among others). */
export type LegSource = { kind: "credit" | "capture"; amount: number; fee: number; provider_id: string | null };

export function legsOf(accountId: string, t: LegSource): Leg[] {
  switch (t.kind) {
    case "credit":
      return [
        { ledgerAccount: EXTERNAL, amount: -t.amount },
        { ledgerAccount: accountId, amount: t.amount },
      ];
    case "capture": {
      const legs: Leg[] = [
        { ledgerAccount: accountId, amount: -t.amount },
        { ledgerAccount: t.provider_id ?? PLATFORM, amount: t.amount - t.fee },
      ];
      if (t.fee > 0) legs.push({ ledgerAccount: PLATFORM, amount: t.fee });
      return legs;
    }
  }
}
