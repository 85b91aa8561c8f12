import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import type { AgentKey, Mandate, NotFound, ReserveInput } from "../../durable-objects/types";
import type { Env } from "../../worker/env";
import { newId, randomToken } from "../../core/ids";
import { ledgerFor, type LedgerStub } from "../../worker/account-client/stub";

/** The test env with the Worker's own binding types (Cloudflare.Env is not generated here). */
export const testEnv = env as unknown as Env;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A fresh account id: storage is shared by all tests of a file, so every test uses its own. */
export const newAccountId = () => newId("acct");

export function ledger(accountId: string): LedgerStub {
  return ledgerFor(testEnv, accountId);
}

/** The key an admin write answered with, or null where it answered not_found. */
export function keyOf(result: { ok: true; key: AgentKey } | NotFound): AgentKey | null {
  return result.ok ? result.key : null;
}

/** The mandate an admin write answered with, or null where it answered not_found. */
export function mandateOf(result: { ok: true; mandate: Mandate } | NotFound): Mandate | null {
  return result.ok ? result.mandate : null;
}

export type TestAccount = { id: string; stub: LedgerStub; keyHash: string; keyId: string };

/** Opens an account in USD with one live agent key and, if asked, an opening credit. */
export async function openAccount(credit = 0): Promise<TestAccount> {
  const id = newAccountId();
  const stub = ledger(id);
  expect(await stub.open({ accountId: id, currency: "USD", actor: "operator" })).toEqual({ ok: true, account_id: id, currency: "USD" });
  const keyId = newId("ak");
  const keyHash = `hash_${randomToken(32)}`;
  expect(await stub.createAgentKey({ id: keyId, name: "bot", keyHash, actor: "owner" })).toMatchObject({
    ok: true,
    key: { id: keyId, name: "bot", revoked_at: null },
  });
  if (credit > 0) {
    const res = await stub.credit({ actor: "operator", amount: credit, reference: "opening", idempotencyKey: null, fingerprint: "" });
    expect(res.ok).toBe(true);
  }
  expect(await stub.balance()).toEqual({ currency: "USD", posted: credit, pending: 0, available: credit });
  return { id, stub, keyHash, keyId };
}

/** A reserve call with distinct request id and test defaults (60 s ttl, no fee). */
export function reserveInput(keyHash: string, amount: number, over: Partial<ReserveInput> = {}): ReserveInput {
  return {
    keyHash,
    requestId: newId("req"),
    serviceId: "svc_test",
    providerId: "prov_test",
    feeBps: 0,
    amount,
    currency: "USD",
    ttlMs: 60_000,
    ...over,
  };
}

/** Reserves and asserts success; returns the hold id. */
export async function reserveOk(acct: TestAccount, amount: number, over: Partial<ReserveInput> = {}): Promise<string> {
  const res = await acct.stub.reserve(reserveInput(acct.keyHash, amount, over));
  if (!res.ok) throw new Error(`reserve failed: ${JSON.stringify(res)}`);
  return res.hold_id;
}

export const balanceOf = (posted: number, pending: number) => ({ currency: "USD", posted, pending, available: posted - pending });

/** Runs SQL inside the account's Durable Object (for what the RPC surface does not expose). */
export function inLedger<R>(stub: LedgerStub, fn: (instance: AccountLedger, state: DurableObjectState) => R | Promise<R>): Promise<R> {
  return runInDurableObject(stub, fn);
}

/** The DO's own export cursor and journal size. */
export function exportState(stub: LedgerStub): Promise<{ exported: number; journal: number }> {
  return inLedger(stub, (_i, state) => {
    const row = state.storage.sql
      .exec<{ exported: number; journal: number }>("SELECT (SELECT exported_seq FROM export_state) AS exported, (SELECT COUNT(*) FROM transfers) AS journal")
      .one();
    return { exported: Number(row.exported), journal: Number(row.journal) };
  });
}

export type D1Transfer = { seq: number; id: string; kind: string; amount: number };
export type D1Leg = { seq: number; leg: number; transfer_id: string; ledger_account: string; amount: number };

/** What D1 holds for one payer account: its exported transfers and their legs, in order. */
export async function d1Rows(accountId: string): Promise<{ transfers: D1Transfer[]; legs: D1Leg[] }> {
  const t = await testEnv.DB.prepare("SELECT seq, id, kind, amount FROM transfers WHERE account_id = ? ORDER BY seq").bind(accountId).all<D1Transfer>();
  const l = await testEnv.DB.prepare("SELECT seq, leg, transfer_id, ledger_account, amount FROM ledger_entries WHERE account_id = ? ORDER BY seq, leg")
    .bind(accountId)
    .all<D1Leg>();
  return { transfers: t.results, legs: l.results };
}

/** Sum of D1 ledger legs, optionally for one ledger account only. */
export async function d1Sum(ledgerAccount?: string): Promise<number> {
  const q = ledgerAccount
    ? testEnv.DB.prepare("SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_entries WHERE ledger_account = ?").bind(ledgerAccount)
    : testEnv.DB.prepare("SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_entries");
  return Number((await q.first<{ s: number }>())?.s);
}

/**
 * Runs each raw SQL write against the ledger's own storage and says what became of it:
 * "refused" when an append-only trigger stopped it, "accepted", or the other error's text.
 */
export function forgedWrites(stub: LedgerStub, statements: readonly string[]): Promise<string[]> {
  return inLedger(stub, (_i, state) =>
    statements.map((q) => {
      try {
        state.storage.sql.exec(q);
        return "accepted";
      } catch (err) {
        return String(err).includes("append-only") ? "refused" : String(err);
      }
    }),
  );
}
