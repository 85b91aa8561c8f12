import { describe, expect, it } from "vitest";
import { OPERATOR, call, expectProblem } from "./helpers";

describe("GET /v1/ledger/entries: bad input → 400 problem+json", () => {
  const bad = [
    "format=xml",
    "format=CSV",
    "limit=0",
    "limit=101",
    "limit=abc",
    "from=not-a-date",
    "from=2026-06-02&to=2026-06-01",
    "cursor=!!!",
    `cursor=${btoa("1:acct_x:1")}`,
    `cursor=${btoa("1:acct_x:1:1' OR 1=1")}`,
  ];
  for (const q of bad) {
    it(`?${q} → 400 invalid_request`, async () => {
      await expectProblem(await call(`/v1/ledger/entries?${q}`, { key: OPERATOR }), 400, "invalid_request");
    });
  }

  it("a CSV request with a bad period is a problem document, not a CSV", async () => {
    const res = await call("/v1/ledger/entries?format=csv&from=2026-06-02&to=2026-06-01", { key: OPERATOR });
    const body = await expectProblem(res, 400, "invalid_request");
    expect(body.detail).toMatch(/before to/);
  });
});
