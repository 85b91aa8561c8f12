import type { Meta } from "./journal";
import type { Row } from "./sql";
import type { Failure } from "./types";

export type SpendBlocked =
  | Failure<"account_frozen" | "key_frozen">
  | { ok: false; code: "currency_mismatch"; account_currency: string; service_currency: string };

/**
 * What stops any spending (a call, a pass bought, a tip) before its amount is looked at: the kill
 * switch first (a frozen account or key gets nothing, whatever its limits), then a price in
 * another currency than the account's (2000 µUSD taken as 2000 µJPY would move the wrong money).
 * `key` is null when the owner spends. Null: nothing stops it here.
 */
export function spendBlocked(meta: Meta, key: Row | null, currency: string): SpendBlocked | null {
  if (meta.frozen) return { ok: false, code: "account_frozen" };
  if (key && key.frozen_at != null) return { ok: false, code: "key_frozen" };
  if (currency !== meta.currency) return { ok: false, code: "currency_mismatch", account_currency: meta.currency, service_currency: currency };
  return null;
}
