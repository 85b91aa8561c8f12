import { asc, eq, gt } from "drizzle-orm";
import type { Db } from "../db/client";
import { accounts } from "../db/schema";

/**
 * The account directory in D1 (the `accounts` table): who an account is, its currency and its
 * owner key's hash. The money itself lives in each account's Durable Object.
 */
export type AccountRow = typeof accounts.$inferSelect;

/** Adds an account to the directory (its ledger is opened separately, after this). */
export async function createAccount(db: Db, row: AccountRow): Promise<void> {
  await db.insert(accounts).values(row);
}

/** The account, or null when the directory has no such id. */
export async function getAccount(db: Db, id: string): Promise<AccountRow | null> {
  return (await db.select().from(accounts).where(eq(accounts.id, id)).get()) ?? null;
}

/** Whether the directory lists the account. */
export async function accountExists(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, id)).get()) !== undefined;
}

/** The account's currency (ISO 4217), or null when there is no such account. */
export async function currencyOf(db: Db, id: string): Promise<string | null> {
  return (await db.select({ currency: accounts.currency }).from(accounts).where(eq(accounts.id, id)).get())?.currency ?? null;
}

/** The SHA-256 hex of the account's owner key, or null when there is no such account. */
export async function ownerKeyHashOf(db: Db, id: string): Promise<string | null> {
  return (await db.select({ h: accounts.ownerKeyHash }).from(accounts).where(eq(accounts.id, id)).get())?.h ?? null;
}

/** What the reconciler reads of an account. */
export type ReconcilerAccount = { id: string; currency: string; created_at: number };

/**
 * The accounts the reconciler checks: the one named, or a page in id order after `after`
 * (one more than `limit`, so the caller sees whether more follow).
 */
export async function accountsToReconcile(db: Db, opts: { accountId?: string; after: string | null; limit: number }): Promise<ReconcilerAccount[]> {
  const columns = { id: accounts.id, currency: accounts.currency, created_at: accounts.createdAt };
  if (opts.accountId) return db.select(columns).from(accounts).where(eq(accounts.id, opts.accountId)).all();
  return db
    .select(columns)
    .from(accounts)
    .where(gt(accounts.id, opts.after ?? ""))
    .orderBy(asc(accounts.id))
    .limit(opts.limit + 1)
    .all();
}
