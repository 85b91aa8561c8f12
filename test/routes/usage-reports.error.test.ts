import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, call, createProvider, createService, expectProblem, payer, type Payer } from "./helpers";

let p: Payer;
let svc: { id: string };
let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
  svc = await createService(prov.key);
  p = await payer(0);
});

describe("usage reports: bad input → 400 problem+json", () => {
  const bad = [
    "group_by=account",
    "group_by=tag:",
    "group_by=tag:Team",
    "group_by=tag:team'--",
    'group_by=tag:a"b',
    "group_by=tag:a%5B0%5D",
    `group_by=tag:${"a".repeat(33)}`,
    "from=yesterday",
    "to=2026-13-01",
    "from=2026-06-02&to=2026-06-01",
    "from=2026-06-01&to=2026-06-01",
  ];
  for (const q of bad) {
    it(`?${q} → 400 invalid_request`, async () => {
      await expectProblem(await call(`/v1/accounts/${p.accountId}/usage?${q}`, { key: p.ownerKey }), 400, "invalid_request");
      await expectProblem(await call(`/v1/services/${svc.id}/usage?${q}`, { key: prov.key }), 400, "invalid_request");
    });
  }

  it("names the offending parameter", async () => {
    const body = await expectProblem(await call(`/v1/accounts/${p.accountId}/usage?group_by=tag:X`, { key: p.ownerKey }), 400, "invalid_request");
    expect(body.detail).toMatch(/group_by/);
  });
});

describe("usage reports: unknown objects → 404", () => {
  it("an account that does not exist (operator)", async () => {
    await expectProblem(await call("/v1/accounts/acct_00000000000000000000/usage", { key: OPERATOR }), 404, "not_found");
  });

  it("a service that does not exist (operator and provider)", async () => {
    await expectProblem(await call("/v1/services/svc_00000000000000000000/usage", { key: OPERATOR }), 404, "not_found");
    await expectProblem(await call("/v1/services/svc_00000000000000000000/usage", { key: prov.key }), 404, "not_found");
  });
});
