import type { Env } from "../env";

/** The AccountLedger Durable Object that holds `accountId`'s money. */
export function ledgerFor(env: Pick<Env, "ACCOUNT">, accountId: string) {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(accountId));
}

export type LedgerStub = ReturnType<typeof ledgerFor>;
