import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, call, createProvider, payer, type Payer } from "./helpers";
import { DB, exportNow, paidCall, parseCsv, serviceWithFee } from "./ledger-helpers";

const testDb = () => DB;

let prov: { id: string; key: string };
let p: Payer;
let svc: { id: string; slug: string };
let requestId: string;
beforeAll(async () => {
  prov = await createProvider();
  svc = await serviceWithFee(prov.id, 1000, 1000); // 10% platform fee
  p = await payer(0);
  await api(`/v1/accounts/${p.accountId}/credits`, { key: OPERATOR, body: { amount: 5000, reference: '=HYPERLINK("http://x")' } });
  requestId = await paidCall(svc.slug, p.agentKey, "team=growth");
  await paidCall(svc.slug, p.agentKey);
  await exportNow(p.accountId);
});

const entries = async (query: string, key: string) => {
  const r = await api(`/v1/ledger/entries${query}`, { key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { data: any[]; next_cursor: string | null };
};

describe("GET /v1/ledger/entries (JSON)", () => {
  it("turns each transfer into debit → credit entries: credit from external, capture to provider and platform", async () => {
    const { data } = await entries("?limit=100", p.ownerKey);
    const { body: journal } = await api(`/v1/accounts/${p.accountId}/transfers`, { key: p.ownerKey });
    const [credit, capture] = [...journal.data].reverse();
    expect(data).toHaveLength(5);
    expect(data[0]).toEqual({
      id: `${credit.id}:1`,
      date: credit.created_at.slice(0, 10),
      created_at: credit.created_at,
      debit_account: "external",
      credit_account: p.accountId,
      amount: 5000,
      currency: "USD",
      transfer_id: credit.id,
      transfer_kind: "credit",
      account_id: p.accountId,
      seq: 1,
      leg: 1,
      service_id: null,
      request_id: null,
      mandate_id: null,
      reference: '=HYPERLINK("http://x")',
      tags: null,
    });
    expect(data.slice(1, 3)).toEqual([
      expect.objectContaining({
        id: `${capture.id}:1`,
        debit_account: p.accountId,
        credit_account: prov.id,
        amount: 900,
        transfer_kind: "capture",
        request_id: requestId,
        service_id: svc.id,
        tags: { team: "growth" },
      }),
      expect.objectContaining({ id: `${capture.id}:2`, debit_account: p.accountId, credit_account: "platform", amount: 100, tags: { team: "growth" } }),
    ]);
  });

  it("is in (created_at, account_id, seq, leg) order, and pages with limit/cursor without gaps or repeats", async () => {
    const all = (await entries("?limit=100", OPERATOR)).data;
    const keys = all.map((e) => [Date.parse(e.created_at), e.account_id, e.seq, e.leg]);
    const sorted = [...keys].sort(
      (a, b) =>
        (a[0] as number) - (b[0] as number) ||
        String(a[1]).localeCompare(String(b[1])) ||
        (a[2] as number) - (b[2] as number) ||
        (a[3] as number) - (b[3] as number),
    );
    expect(keys).toEqual(sorted);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: any[]; next_cursor: string | null } = await entries(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`, OPERATOR);
      expect(page.data.length).toBeLessThanOrEqual(2);
      walked.push(...page.data.map((e) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(walked).toEqual(all.map((e) => e.id));
    expect(new Set(walked).size).toBe(walked.length);
  });

  it("entries of a transfer balance: per transfer, credits add up to the debit leg's amount", async () => {
    const { data } = await entries("?limit=100", p.ownerKey);
    const perTransfer = new Map<string, number>();
    for (const e of data) perTransfer.set(e.transfer_id, (perTransfer.get(e.transfer_id) ?? 0) + e.amount);
    expect([...perTransfer.values()].sort((a, b) => a - b)).toEqual([1000, 1000, 5000]);
  });

  it("a period before the charges is empty", async () => {
    expect((await entries("?from=2020-01-01&to=2020-02-01", OPERATOR)).data).toEqual([]);
  });
});

describe("GET /v1/ledger/entries?format=csv", () => {
  it("is an RFC 4180 attachment: header row, CRLF, one record per JSON entry, formulas defused", async () => {
    const res = await call("/v1/ledger/entries?format=csv", { key: p.ownerKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="tollgate-ledger-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.csv"$/);
    const text = await res.text();
    expect(text.endsWith("\r\n")).toBe(true);
    expect(text.replaceAll("\r\n", "")).not.toMatch(/\n/);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([
      "id",
      "date",
      "created_at",
      "debit_account",
      "credit_account",
      "amount",
      "currency",
      "transfer_id",
      "transfer_kind",
      "account_id",
      "seq",
      "leg",
      "service_id",
      "request_id",
      "mandate_id",
      "reference",
      "tags",
    ]);
    const json = (await entries("?limit=100", p.ownerKey)).data;
    expect(rows.map((r) => r[0])).toEqual(json.map((e) => e.id));
    const credit = rows[0] ?? [];
    expect(credit[15]).toBe('\'=HYPERLINK("http://x")');
    expect(rows[1]?.[16]).toBe("team=growth");
    expect(rows[1]?.[5]).toBe("900");
  });

  it("an empty period is just the header", async () => {
    const res = await call("/v1/ledger/entries?format=csv&from=2020-01-01&to=2020-01-02", { key: OPERATOR });
    expect(await res.text()).toBe(
      "id,date,created_at,debit_account,credit_account,amount,currency,transfer_id,transfer_kind,account_id,seq,leg,service_id,request_id,mandate_id,reference,tags\r\n",
    );
  });

  it("streams more rows than one internal page (500) in order", async () => {
    const many = await payer(0);
    for (let i = 0; i < 3; i++) await api(`/v1/accounts/${many.accountId}/credits`, { key: OPERATOR, body: { amount: 1 + i } });
    await exportNow(many.accountId);
    // 600 extra legs straight into D1, after the period's real rows, to cross the page boundary.
    const base = Date.now() + 60_000;
    const stmts = [];
    for (let i = 0; i < 600; i++) {
      stmts.push(
        testDb()
          .prepare(
            "INSERT INTO ledger_entries (account_id, seq, leg, transfer_id, ledger_account, amount, currency, created_at) VALUES (?, ?, 1, ?, ?, 1, 'USD', ?)",
          )
          .bind(many.accountId, 1000 + i, `tr_bulk${i}`, many.accountId, base + i),
        testDb()
          .prepare("INSERT INTO transfers (account_id, seq, id, kind, amount, currency, created_at) VALUES (?, ?, ?, 'credit', 1, 'USD', ?)")
          .bind(many.accountId, 1000 + i, `tr_bulk${i}`, base + i),
      );
    }
    await testDb().batch(stmts);
    const res = await call(`/v1/ledger/entries?format=csv&to=${encodeURIComponent(new Date(base + 3_600_000).toISOString())}`, { key: many.ownerKey });
    const rows = parseCsv(await res.text()).slice(1);
    expect(rows).toHaveLength(603);
    expect(rows.slice(3).map((r) => r[7])).toEqual(Array.from({ length: 600 }, (_, i) => `tr_bulk${i}`));
    await testDb().batch([
      testDb().prepare("DELETE FROM ledger_entries WHERE account_id = ? AND seq >= 1000").bind(many.accountId),
      testDb().prepare("DELETE FROM transfers WHERE account_id = ? AND seq >= 1000").bind(many.accountId),
    ]);
  });
});
