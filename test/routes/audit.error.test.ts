import { beforeAll, describe, it } from "vitest";
import { OPERATOR, call, createAccount, expectProblem } from "./helpers";

let account: { id: string; ownerKey: string };
beforeAll(async () => {
  account = await createAccount();
});

describe("audit routes: bad input → 400, unknown account → 404", () => {
  for (const q of ["limit=0", "limit=101", "cursor=!!", `cursor=${btoa("x")}`, `cursor=${btoa("-1")}`, `cursor=${btoa("1.5")}`]) {
    it(`GET /audit?${q} → 400 invalid_request`, async () => {
      await expectProblem(await call(`/v1/accounts/${account.id}/audit?${q}`, { key: account.ownerKey }), 400, "invalid_request");
    });
  }

  it("verify on an account that does not exist (operator) → 404", async () => {
    await expectProblem(await call("/v1/accounts/acct_00000000000000000000/audit/verify", { key: OPERATOR }), 404, "not_found");
  });
});
