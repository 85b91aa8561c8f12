/**
 * Setup for the payout route tests: a provider with earnings in D1 (real paid calls through the
 * gateway, exported by the payer's ledger), and the payout routes called with PAYOUT_DELAY_S set.
 */
import { expect } from "vitest";
import { type CallInit, callWithEnv, OPERATOR } from "./helpers";
import { DB } from "./ledger-helpers";
import { exportedCharge, type RefundWorld, refundWorld } from "./refund-helpers";

export { DB };

/** No delay: every earning is available at once. */
export const NOW = { PAYOUT_DELAY_S: "0" };

/** A provider whose service charges 1000 per call with a 10% fee: it earns 900 a call. */
export const PER_CALL = 1_000;
export const EARNED_PER_CALL = 900;

export async function earningProvider(): Promise<RefundWorld> {
  return refundWorld(PER_CALL, 1_000);
}

/** `calls` paid calls, exported to D1; returns their charge ids. */
export async function earn(w: RefundWorld, calls: number): Promise<string[]> {
  const charges: string[] = [];
  for (let i = 0; i < calls; i++) charges.push(await exportedCharge(w));
  return charges;
}

/** A JSON API call with these settings; the parsed body. */
export async function apiWithEnv(vars: Record<string, string>, path: string, init: CallInit = {}) {
  const { response, finished } = callWithEnv(vars, path, init);
  const res = await response;
  const text = await res.text();
  await finished();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, contentType: res.headers.get("content-type") };
}

/** The operator pays out (with PAYOUT_DELAY_S = 0 unless `vars` says otherwise). */
export function payout(providerId: string, body: unknown, headers: Record<string, string> = {}, vars: Record<string, string> = NOW) {
  return apiWithEnv(vars, `/v1/providers/${providerId}/payouts`, { key: OPERATOR, body, headers });
}

export type BalanceLine = { currency: string; pending: number; available: number; paid_out: number };

/** The provider's balance in `currency` as the route answers it. */
export async function providerBalance(providerId: string, vars: Record<string, string> = NOW, currency = "USD", key = OPERATOR): Promise<BalanceLine> {
  const r = await apiWithEnv(vars, `/v1/providers/${providerId}/balance`, { key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.provider_id).toBe(providerId);
  const line = r.body.balances.find((b: BalanceLine) => b.currency === currency);
  return line ?? { currency, pending: 0, available: 0, paid_out: 0 };
}

/** Σ of the provider's legs in D1, straight from the table (its balance, I15). */
export async function legSum(providerId: string, currency = "USD"): Promise<number> {
  const row = await DB.prepare("SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_entries WHERE ledger_account = ? AND currency = ?")
    .bind(providerId, currency)
    .first<{ s: number }>();
  return Number(row?.s);
}

/** What payouts left in D1 for the provider: its payout rows and its payout legs. */
export async function payoutState(providerId: string) {
  const [rows, legs] = await Promise.all([
    DB.prepare("SELECT id, seq, amount, currency, reference, idempotency_key FROM payouts WHERE provider_id = ? ORDER BY seq").bind(providerId).all(),
    DB.prepare("SELECT seq, leg, transfer_id, ledger_account, amount, currency FROM ledger_entries WHERE account_id = ? ORDER BY seq, leg")
      .bind(providerId)
      .all(),
  ]);
  return { payouts: rows.results, legs: legs.results };
}
