import { beforeAll, describe, expect, it } from "vitest";
import { call, expectProblem, OPERATOR, payer, type Payer, type Provider, providerServicePayer, type ServiceRef } from "./helpers";
import { DB } from "./ledger-helpers";

let prov: Provider, svc: ServiceRef, p: Payer;
beforeAll(async () => {
  ({ prov, svc, p } = await providerServicePayer({}, 0));
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

describe("usage reports: a sum past 2^53 − 1 → 422 amount_out_of_range, never a rounded number", () => {
  // Two settled charges in D1 whose sum, 2^53 + 1, has no exact JavaScript number: read as a
  // number it would be reported as 2^53, a micro-unit short.
  const MAX = Number.MAX_SAFE_INTEGER;
  let big: Payer;
  beforeAll(async () => {
    big = await payer(0);
    const day = 86_400_000;
    const now = Date.now();
    await DB.batch(
      [
        [1, MAX, now - day],
        [2, 2, now],
      ].map(([seq, amount, at]) =>
        DB.prepare(
          "INSERT INTO transfers (account_id, seq, id, kind, amount, currency, service_id, created_at) VALUES (?, ?, ?, 'capture', ?, 'USD', ?, ?)",
        ).bind(big.accountId, seq, `tr_big${seq}${big.accountId.slice(5)}`, amount, svc.id, at),
      ),
    );
  });

  it("one group whose sum is too large (group_by=service), for the account and for the service", async () => {
    const body = await expectProblem(await call(`/v1/accounts/${big.accountId}/usage?group_by=service`, { key: big.ownerKey }), 422, "amount_out_of_range");
    expect(body.detail).toMatch(/9007199254740993/);
    await expectProblem(await call(`/v1/services/${svc.id}/usage?group_by=service`, { key: prov.key }), 422, "amount_out_of_range");
  });

  it("a sum past 2^63, where SQLite's own exact sum overflows, is the same 422", async () => {
    const huge = await payer(0);
    await DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1025)
       INSERT INTO transfers (account_id, seq, id, kind, amount, currency, service_id, created_at)
       SELECT ?1, i, 'tr_huge' || i || ?1, 'capture', ?2, 'USD', 'svc_huge', ?3 FROM n`,
    )
      .bind(huge.accountId, Number.MAX_SAFE_INTEGER, Date.now())
      .run();
    const body = await expectProblem(await call(`/v1/accounts/${huge.accountId}/usage`, { key: OPERATOR }), 422, "amount_out_of_range");
    expect(body.detail).toMatch(/2\^63/);
  });

  it("groups that fit but a total that does not (group_by=day)", async () => {
    const body = await expectProblem(await call(`/v1/accounts/${big.accountId}/usage?group_by=day`, { key: OPERATOR }), 422, "amount_out_of_range");
    expect(body.detail).toMatch(/total/);
  });
});
