/**
 * Helpers for the finance route tests (usage reports, ledger entries, reconciliation, audit):
 * paid calls with tags, and the export of an account's journal to D1 on demand.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import type { Env } from "../../worker/env";
import { sendQueuedCaptures } from "../../worker/account-client/capture-queue";
import { ledgerFor } from "../../worker/account-client/stub";
import { OPERATOR, api, call, originUrl, unique } from "./helpers";

export { parseCsv } from "../unit/csv-reader";

export const testEnv = env as unknown as Env;
export const DB = testEnv.DB;

/** Runs the account's alarm now (or its handler, if none is scheduled): the journal and audit reach D1. */
export async function exportNow(accountId: string): Promise<void> {
  const stub = ledgerFor(testEnv, accountId);
  // Captures of calls just served may still wait in this isolate for a ride (worker/account-client/capture-queue.ts).
  await sendQueuedCaptures(accountId, () => stub);
  if (!(await runDurableObjectAlarm(stub))) await runInDurableObject(stub, (instance: AccountLedger) => instance.alarm());
}

/** One paid call through the proxy; returns its request id. */
export async function paidCall(slug: string, agentKey: string, tags?: string): Promise<string> {
  const res = await call(`/s/${slug}/echo`, { key: agentKey, headers: tags ? { "tollgate-tags": tags } : {} });
  expect(res.status, await res.clone().text()).toBe(200);
  await res.body?.cancel();
  return res.headers.get("tollgate-request-id") ?? "";
}

/** A service created by the operator for `providerId`, with its own platform fee. */
export async function serviceWithFee(providerId: string, perCall: number, feeBps: number): Promise<{ id: string; slug: string }> {
  const body = { slug: unique("fee"), name: "Fee service", origin: originUrl(), prices: [{ per_call: perCall }], provider_id: providerId, fee_bps: feeBps };
  const r = await api("/v1/services", { key: OPERATOR, body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { id: r.body.id, slug: r.body.slug };
}
