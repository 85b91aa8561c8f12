import { describe, expect, it } from "vitest";
import { OPERATOR, api } from "./helpers";
import { DB } from "./ledger-helpers";

// Its own file: the rows below unbalance the whole ledger for every later full run in the file.
describe("GET /v1/reconciliation: whole-ledger totals are exact", () => {
  it("a currency whose legs sum to 2^53 + 1 is reported as exactly that, not as a rounded 2^53", async () => {
    const at = Date.now();
    await DB.prepare(
      "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, created_at) VALUES ('acct_huge', 1, 1, 'tr_huge1', 'acct_huge', ?, 'XTS', ?), ('acct_huge', 2, 1, 'tr_huge2', 'acct_huge', 2, 'XTS', ?)",
    )
      .bind(Number.MAX_SAFE_INTEGER, at, at)
      .run();
    const r = await api("/v1/reconciliation", { key: OPERATOR });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.discrepancies).toContainEqual({
      account_id: null,
      seq: null,
      kind: "unbalanced",
      detail: "all XTS ledger entries sum to 9007199254740993, not 0",
    });
  });
});
