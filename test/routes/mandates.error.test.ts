import { beforeAll, describe, expect, it } from "vitest";
import { api, balance, boundKey, call, createAccount, createProvider, createService, credit, expectProblem, OPERATOR, postMandate, transfers } from "./helpers";

// Mandate errors over HTTP: bad terms are 400 problem+json and create nothing; proxied calls
// outside a mandate are 403 with the mandate's code and id — nothing forwarded, nothing held,
// nothing charged; a bad tollgate-tags header is 400 before any money moves.

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let prov: { id: string; key: string };
beforeAll(async () => {
  prov = await createProvider();
});

const valid = () => ({ intent: "Buy research papers", max_total: 1_000, max_per_call: 100, valid_until: iso(Date.now() + HOUR) });

const createMandate = (accountId: string, key: string, body: Record<string, unknown> = {}) => postMandate(accountId, key, { ...valid(), ...body });

describe("POST /v1/accounts/{id}/mandates: invalid terms → 400, nothing created", () => {
  let acct: { id: string; ownerKey: string };
  beforeAll(async () => {
    acct = await createAccount();
  });

  const cases: [string, (v: ReturnType<typeof valid>) => unknown][] = [
    ["max_per_call > max_total", (v) => ({ ...v, max_total: 10, max_per_call: 11 })],
    ["max_per_day > max_total", (v) => ({ ...v, max_total: 10, max_per_call: 5, max_per_day: 11 })],
    ["valid_until in the past", (v) => ({ ...v, valid_until: iso(Date.now() - 1_000) })],
    ["valid_until equal to valid_from", (v) => ({ ...v, valid_from: iso(Date.now() + HOUR), valid_until: iso(Date.now() + HOUR) })],
    ["valid_until before valid_from", (v) => ({ ...v, valid_from: iso(Date.now() + 2 * HOUR), valid_until: iso(Date.now() + HOUR) })],
    ["valid_until not ISO 8601", (v) => ({ ...v, valid_until: "tomorrow" })],
    ["valid_until without a time zone", (v) => ({ ...v, valid_until: "2099-01-01T00:00:00" })],
    ["valid_until as epoch milliseconds", (v) => ({ ...v, valid_until: Date.now() + HOUR })],
    ["valid_until an impossible date", (v) => ({ ...v, valid_until: "2099-13-01T00:00:00Z" })],
    ["valid_until missing", ({ valid_until: _u, ...v }) => v],
    ["valid_from not a timestamp", (v) => ({ ...v, valid_from: "now" })],
    ["intent missing", ({ intent: _i, ...v }) => v],
    ["intent empty", (v) => ({ ...v, intent: "" })],
    ["intent over 2000 characters", (v) => ({ ...v, intent: "x".repeat(2001) })],
    ["intent not a string", (v) => ({ ...v, intent: 42 })],
    ["services empty (absent means any)", (v) => ({ ...v, services: [] })],
    ["services with an upper-case slug", (v) => ({ ...v, services: ["Translate"] })],
    ["services with an underscore", (v) => ({ ...v, services: ["my_service"] })],
    ["services with a one-character slug", (v) => ({ ...v, services: ["a"] })],
    ["services with a 64-character slug", (v) => ({ ...v, services: ["a".repeat(64)] })],
    ["services with a path", (v) => ({ ...v, services: ["../admin"] })],
    ["services with a non-string", (v) => ({ ...v, services: [1] })],
    ["services not a list", (v) => ({ ...v, services: "translate" })],
    ["more than 100 services", (v) => ({ ...v, services: Array.from({ length: 101 }, (_, i) => `svc-${i}`) })],
    ["tags with an upper-case name", (v) => ({ ...v, tags: { Team: "growth" } })],
    ["tags with a formula value", (v) => ({ ...v, tags: { team: '=HYPERLINK("x")' } })],
    ["tags with a '+' value", (v) => ({ ...v, tags: { team: "+1" } })],
    ["tags with a '-' value", (v) => ({ ...v, tags: { team: "-1" } })],
    ["tags with an '@' value", (v) => ({ ...v, tags: { team: "@x" } })],
    ["tags with CR/LF", (v) => ({ ...v, tags: { team: "a\r\nb" } })],
    ["tags with a long value", (v) => ({ ...v, tags: { team: `a${"b".repeat(64)}` } })],
    ["tags with a long name", (v) => ({ ...v, tags: { [`t${"a".repeat(32)}`]: "x" } })],
    ["tags with a non-string value", (v) => ({ ...v, tags: { team: 1 } })],
    ["more than 10 tags", (v) => ({ ...v, tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`t${i}`, "v"])) })],
    ["tags as a header string", (v) => ({ ...v, tags: "team=growth" })],
    ["an unknown member (strict)", (v) => ({ ...v, spent: 0 })],
    ["a counter set by the client", (v) => ({ ...v, pending: -100 })],
    ["revoked_at set by the client", (v) => ({ ...v, revoked_at: null })],
  ];
  for (const field of ["max_total", "max_per_call", "max_per_day"] as const) {
    for (const [label, value] of [
      ["0", 0],
      ["-1", -1],
      ["1.5", 1.5],
      ["2^53", 2 ** 53],
      ["a string", "10"],
      ["null", null],
      ["1e400 (Infinity)", "1e400"],
    ] as const) {
      cases.push([`${field} ${label}`, (v) => ({ ...v, max_total: 1_000, max_per_call: 1, [field]: value })]);
    }
  }

  for (const [name, make] of cases) {
    it(name, async () => {
      const body = make(valid());
      // "1e400" is sent as a bare JSON number (it parses to Infinity).
      const raw = JSON.stringify(body).replace('"1e400"', "1e400");
      const res = await call(`/v1/accounts/${acct.id}/mandates`, { key: acct.ownerKey, body: raw });
      const problem = await expectProblem(res, 400, "invalid_request");
      expect(problem.detail.length).toBeGreaterThan(0);
    });
  }

  it("malformed JSON, a JSON array and an empty body are 400", async () => {
    for (const body of ["{", "[]", "null", '"x"']) {
      await expectProblem(await call(`/v1/accounts/${acct.id}/mandates`, { key: acct.ownerKey, body }), 400, "invalid_request");
    }
    await expectProblem(
      await call(`/v1/accounts/${acct.id}/mandates`, { method: "POST", key: acct.ownerKey, headers: { "content-type": "application/json" } }),
      400,
      "invalid_request",
    );
  });

  it("the error names the offending member", async () => {
    const res = await call(`/v1/accounts/${acct.id}/mandates`, { key: acct.ownerKey, body: { ...valid(), max_total: 10, max_per_call: 11 } });
    const problem = await expectProblem(res, 400, "invalid_request");
    expect(problem.errors).toEqual([{ path: "max_per_call", message: "must not exceed max_total" }]);
  });

  it("none of them created a mandate", async () => {
    const list = await api(`/v1/accounts/${acct.id}/mandates`, { key: acct.ownerKey });
    expect(list).toMatchObject({ status: 200, body: { data: [], next_cursor: null } });
  });

  it("the largest amount (2^53 − 1) is accepted", async () => {
    const other = await createAccount();
    const max = Number.MAX_SAFE_INTEGER;
    const m = await createMandate(other.id, other.ownerKey, { max_total: max, max_per_call: max, max_per_day: max });
    expect(m).toMatchObject({ max_total: max, max_per_call: max, max_per_day: max });
  });
});

describe("unknown mandates and accounts", () => {
  it("GET and DELETE of an unknown mandate are 404", async () => {
    const a = await createAccount();
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates/mnd_00000000000000000000`, { key: a.ownerKey }), 404, "not_found");
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates/mnd_00000000000000000000`, { method: "DELETE", key: a.ownerKey }), 404, "not_found");
  });

  it("the operator on an account that does not exist: 404 for create, empty list", async () => {
    const missing = "acct_00000000000000000000";
    await expectProblem(await call(`/v1/accounts/${missing}/mandates`, { key: OPERATOR, body: valid() }), 404, "not_found");
    expect((await api(`/v1/accounts/${missing}/mandates`, { key: OPERATOR })).body).toEqual({ data: [], next_cursor: null });
  });

  it("a mandate id over 64 characters is 400; a bad cursor is 400", async () => {
    const a = await createAccount();
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates/${"m".repeat(65)}`, { key: a.ownerKey }), 400, "invalid_request");
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates?cursor=%%%`, { key: a.ownerKey }), 400, "invalid_request");
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates?limit=0`, { key: a.ownerKey }), 400, "invalid_request");
    await expectProblem(await call(`/v1/accounts/${a.id}/mandates?limit=101`, { key: a.ownerKey }), 400, "invalid_request");
  });
});

describe("agent keys and mandates", () => {
  it("a key cannot be bound to a revoked mandate (400), nor to an unknown one (400); no key is created", async () => {
    const a = await createAccount();
    const m = await createMandate(a.id, a.ownerKey);
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { method: "DELETE", key: a.ownerKey })).status).toBe(200);
    const revoked = await expectProblem(
      await call(`/v1/accounts/${a.id}/agent-keys`, { key: a.ownerKey, body: { name: "late", mandate_id: m.id } }),
      400,
      "invalid_request",
    );
    expect(revoked.detail).toBe("mandate_id: that mandate is revoked");
    const unknown = await expectProblem(
      await call(`/v1/accounts/${a.id}/agent-keys`, { key: a.ownerKey, body: { name: "x", mandate_id: "mnd_00000000000000000000" } }),
      400,
      "invalid_request",
    );
    expect(unknown.detail).toBe("mandate_id: no such mandate on this account");
    expect((await api(`/v1/accounts/${a.id}/agent-keys`, { key: a.ownerKey })).body.data).toEqual([]);
  });
});

describe("proxied calls outside the mandate: 403, nothing forwarded, nothing charged", () => {
  type Setup = { slug: string; serviceId: string; accountId: string; ownerKey: string; mandateId: string; key: string };

  async function setup(terms: Record<string, unknown> = {}, price = 10, funds = 1_000): Promise<Setup> {
    const svc = await createService(prov.key, { prices: [{ per_call: price }] });
    const a = await createAccount();
    await credit(a.id, funds);
    const m = await createMandate(a.id, a.ownerKey, terms);
    return { slug: svc.slug, serviceId: svc.id, accountId: a.id, ownerKey: a.ownerKey, mandateId: m.id, key: (await boundKey(a.id, a.ownerKey, m.id)).key };
  }

  const mandateOf = async (s: Setup) => (await api(`/v1/accounts/${s.accountId}/mandates/${s.mandateId}`, { key: s.ownerKey })).body;

  /** Calls through the proxy and asserts the 403 and that no money moved anywhere. */
  async function expectRefused(s: Setup, code: string, slug = s.slug): Promise<void> {
    const [bal, journal, mandate] = [await balance(s.accountId), await transfers(s.accountId), await mandateOf(s)];
    const res = await call(`/s/${slug}/echo/refused`, { method: "POST", key: s.key, body: { secret: "must not reach the origin" } });
    expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    expect(res.headers.get("tollgate-charge")).toBeNull();
    const problem = await expectProblem(res, 403, code);
    expect(problem).toMatchObject({ mandate_id: s.mandateId, detail: `The key's mandate refuses this call (${code}).` });
    // Nothing held (pending unchanged), nothing captured, the mandate's counters unchanged.
    expect(await balance(s.accountId)).toEqual(bal);
    expect(await transfers(s.accountId)).toEqual(journal);
    expect(await mandateOf(s)).toEqual(mandate);
  }

  async function expectCharged(s: Setup, amount: number): Promise<void> {
    const res = await call(`/s/${s.slug}/echo`, { key: s.key });
    expect(res.status).toBe(200);
    expect(res.headers.get("tollgate-charge")).toBe(String(amount));
    await res.body?.cancel();
  }

  it("mandate_not_started: before valid_from", async () => {
    const s = await setup({ valid_from: iso(Date.now() + HOUR), valid_until: iso(Date.now() + 2 * HOUR) });
    await expectRefused(s, "mandate_not_started");
    expect(await balance(s.accountId)).toEqual({ currency: "USD", posted: 1_000, pending: 0, available: 1_000 });
  });

  it("mandate_expired: after valid_until (a call just before it was charged)", async () => {
    const until = Date.now() + 1_500;
    const s = await setup({ valid_until: iso(until) });
    await expectCharged(s, 10);
    await sleep(until - Date.now() + 50);
    await expectRefused(s, "mandate_expired");
    expect(await balance(s.accountId)).toEqual({ currency: "USD", posted: 990, pending: 0, available: 990 });
  });

  it("mandate_service_not_allowed: a service whose slug is not listed", async () => {
    const s = await setup({ services: ["some-other-service"] });
    await expectRefused(s, "mandate_service_not_allowed");
    // Listing the slug allows it.
    const allowed = await setup();
    const other = await createService(prov.key, { prices: [{ per_call: 10 }] });
    const m = await createMandate(allowed.accountId, allowed.ownerKey, { services: [other.slug] });
    const { key } = await boundKey(allowed.accountId, allowed.ownerKey, m.id);
    const ok = await call(`/s/${other.slug}/echo`, { key });
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    await expectRefused({ ...allowed, mandateId: m.id, key }, "mandate_service_not_allowed", allowed.slug);
  });

  it("mandate_per_call_exceeded: the price is over max_per_call", async () => {
    const s = await setup({ max_per_call: 9 }, 10);
    await expectRefused(s, "mandate_per_call_exceeded");
    // At exactly max_per_call it is charged.
    const exact = await setup({ max_per_call: 10 }, 10);
    await expectCharged(exact, 10);
  });

  it("mandate_exceeded: spent + this call over max_total (exactly at the cap is charged)", async () => {
    const s = await setup({ max_total: 25, max_per_call: 10 }, 10);
    await expectCharged(s, 10);
    await expectCharged(s, 10);
    await expectRefused(s, "mandate_exceeded"); // 20 + 10 > 25
    expect(await mandateOf(s)).toMatchObject({ spent: 20, pending: 0 });
    expect(await balance(s.accountId)).toEqual({ currency: "USD", posted: 980, pending: 0, available: 980 });
  });

  it("mandate_exceeded: the daily cap", async () => {
    const s = await setup({ max_total: 100, max_per_call: 10, max_per_day: 20 }, 10);
    await expectCharged(s, 10);
    await expectCharged(s, 10);
    await expectRefused(s, "mandate_exceeded");
  });

  it("mandate_revoked: DELETE is effective on the next call", async () => {
    const s = await setup();
    await expectCharged(s, 10);
    expect((await api(`/v1/accounts/${s.accountId}/mandates/${s.mandateId}`, { method: "DELETE", key: s.ownerKey })).status).toBe(200);
    await expectRefused(s, "mandate_revoked");
    await expectRefused(s, "mandate_revoked");
    expect(await balance(s.accountId)).toEqual({ currency: "USD", posted: 990, pending: 0, available: 990 });
  });
});

describe("a bad tollgate-tags header: 400 before any money moves", () => {
  const bad = [
    "team==cmd",
    "team=+1",
    "team=-1",
    "team=@x",
    "team=growth,team=ops",
    "team=growth,,session=s1",
    "team=growth,",
    "team",
    "=growth",
    "Team=growth",
    `team=${"a".repeat(65)}`,
    `${"t".repeat(33)}=x`,
    "team=a b",
    "team=a;b",
    Array.from({ length: 11 }, (_, i) => `t${i}=v`).join(","),
  ];

  it("each is refused with invalid_request; balance, pending and journal unchanged", async () => {
    const svc = await createService(prov.key, { prices: [{ per_call: 10 }] });
    const a = await createAccount();
    await credit(a.id, 1_000);
    const m = await createMandate(a.id, a.ownerKey);
    const { key } = await boundKey(a.id, a.ownerKey, m.id);
    const journal = await transfers(a.id);
    for (const header of bad) {
      const res = await call(`/s/${svc.slug}/echo`, { key, headers: { "tollgate-tags": header } });
      const problem = await expectProblem(res, 400, "invalid_request");
      expect(problem.detail, header).toMatch(/^tollgate-tags: /);
    }
    expect(await balance(a.id)).toEqual({ currency: "USD", posted: 1_000, pending: 0, available: 1_000 });
    expect(await transfers(a.id)).toEqual(journal);
    expect((await api(`/v1/accounts/${a.id}/mandates/${m.id}`, { key: a.ownerKey })).body).toMatchObject({ spent: 0, pending: 0 });
  });

  it("the header cannot carry CR/LF: the request is not even built", () => {
    expect(() => new Headers({ "tollgate-tags": "team=a\r\nx-evil: 1" })).toThrow();
  });
});
