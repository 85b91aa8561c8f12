/**
 * Setup for the tip route tests: a provider, a service of it and a funded payer, and tips sent
 * with the settings a test needs (TIP_FEE_BPS).
 */
import { expect } from "vitest";
import { OPERATOR, type Payer, type Provider, providerServicePayer, type ServiceRef } from "./helpers";
import { DB, exportNow } from "./ledger-helpers";
import { apiWithEnv } from "./payout-helpers";

export type TipWorld = { prov: Provider; svc: ServiceRef; p: Payer };

export async function tipWorld(funds = 1_000_000): Promise<TipWorld> {
  return providerServicePayer({ prices: [{ per_call: 1_000 }] }, funds);
}

/** POST /v1/tips with `key` (TIP_FEE_BPS 0 unless `vars` sets it). */
export function tip(key: string, body: unknown, headers: Record<string, string> = {}, vars: Record<string, string> = {}) {
  return apiWithEnv(vars, "/v1/tips", { key, body, headers });
}

/** What a refused or bad tip must leave as it was: the payer's balance, journal and mandates, and D1's tips. */
export async function moneyState(w: TipWorld) {
  // D1 first brought level with the ledger: an earlier tip's export landing between two reads
  // would otherwise look like a change.
  await exportNow(w.p.accountId);
  const read = async (path: string) => {
    const r = await apiWithEnv({}, path, { key: OPERATOR });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };
  const [balance, journal, mandates, d1] = await Promise.all([
    read(`/v1/accounts/${w.p.accountId}/balance`),
    read(`/v1/accounts/${w.p.accountId}/transfers?limit=100`),
    read(`/v1/accounts/${w.p.accountId}/mandates?limit=100`),
    DB.prepare("SELECT COUNT(*) AS n FROM transfers WHERE account_id = ? AND kind = 'tip'").bind(w.p.accountId).first<{ n: number }>(),
  ]);
  return { balance, journal: journal.data, mandates: mandates.data, d1Tips: Number(d1?.n) };
}
