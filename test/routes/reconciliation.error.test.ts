import { describe, it } from "vitest";
import { OPERATOR, call, expectProblem } from "./helpers";

describe("GET /v1/reconciliation: bad input → 400, unknown account → 404", () => {
  const bad = [
    "account_id=nope",
    "account_id=acct_X'--",
    "limit=0",
    "limit=51",
    "grace_seconds=-1",
    "grace_seconds=86401",
    "grace_seconds=1.5",
    "cursor=!!",
    `cursor=${btoa("x' OR 1=1")}`,
  ];
  for (const q of bad) {
    it(`?${q} → 400 invalid_request`, async () => {
      await expectProblem(await call(`/v1/reconciliation?${q}`, { key: OPERATOR }), 400, "invalid_request");
    });
  }

  it("an account the directory does not know → 404", async () => {
    await expectProblem(await call("/v1/reconciliation?account_id=acct_00000000000000000000", { key: OPERATOR }), 404, "not_found");
  });
});
