import { describe, expect, it } from "vitest";
import { chainHash, GENESIS } from "../../core/audit-chain";
import { toAuditRecord } from "../../worker/audit/verify";
import { verifyAuditTrail } from "../../worker/audit/verify-trail";
import { ledgerFor } from "../../worker/account-client/stub";
import { OPERATOR, api, createAccount, credit } from "./helpers";
import { DB, exportNow, testEnv } from "./ledger-helpers";

/** An account with events 1 (opened) and 2–4 (three credits), exported to D1. */
async function audited(): Promise<{ id: string; ownerKey: string }> {
  const a = await createAccount();
  for (const amount of [100, 200, 300]) await credit(a.id, amount);
  await exportNow(a.id);
  return a;
}

const verify = async (id: string, key = OPERATOR) => {
  const r = await api(`/v1/accounts/${id}/audit/verify`, { key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
};
const sql = (q: string, ...args: unknown[]) =>
  DB.prepare(q)
    .bind(...args)
    .run();

describe("GET /v1/accounts/{id}/audit", () => {
  it("lists the ledger's events newest first, chained, in pages", async () => {
    const a = await audited();
    const first = await api(`/v1/accounts/${a.id}/audit?limit=3`, { key: a.ownerKey });
    expect(first.status).toBe(200);
    expect(first.body.data.map((e: any) => [e.seq, e.event])).toEqual([
      [4, "credit"],
      [3, "credit"],
      [2, "credit"],
    ]);
    expect(first.body.data[0]).toMatchObject({ account_id: a.id, actor: "operator", amount: 300, outcome: "ok", prev_hash: first.body.data[1].hash });
    const rest = await api(`/v1/accounts/${a.id}/audit?limit=3&cursor=${first.body.next_cursor}`, { key: a.ownerKey });
    expect(rest.body.data.map((e: any) => [e.seq, e.event])).toEqual([[1, "account_opened"]]);
    expect(rest.body.data[0].prev_hash).toBe(GENESIS);
    expect(rest.body.next_cursor).toBeNull();
  });
});

describe("GET /v1/accounts/{id}/audit/verify", () => {
  it("an exported, untouched trail is ok (owner and operator)", async () => {
    const a = await audited();
    const { body: events } = await api(`/v1/accounts/${a.id}/audit?limit=1`, { key: a.ownerKey });
    const expected = {
      account_id: a.id,
      ok: true,
      checked: 4,
      d1_head_seq: 4,
      d1_head_hash: events.data[0].hash,
      exported_seq: 4,
      ledger_head_seq: 4,
      not_yet_exported: 0,
    };
    expect(await verify(a.id, a.ownerKey)).toEqual(expected);
    expect(await verify(a.id)).toEqual(expected);
  });

  it("events not exported yet are reported as pending, not as a failure", async () => {
    const a = await createAccount(); // opening writes event 1 but schedules no export
    expect(await verify(a.id)).toMatchObject({ ok: true, checked: 0, d1_head_seq: 0, exported_seq: 0, ledger_head_seq: 1, not_yet_exported: 1 });
  });

  it("one edited row in D1 fails verification at that row", async () => {
    const a = await audited();
    await sql("UPDATE audit_events SET amount = amount + 1 WHERE account_id = ? AND seq = 3", a.id);
    expect(await verify(a.id)).toMatchObject({ ok: false, seq: 3, problem: "hash_mismatch", checked: 2, detail: "event 3 was altered" });
  });

  it("a deleted row is missing at its seq", async () => {
    const a = await audited();
    await sql("DELETE FROM audit_events WHERE account_id = ? AND seq = 2", a.id);
    expect(await verify(a.id)).toMatchObject({ ok: false, seq: 2, problem: "missing" });
  });

  it("a deleted tail (below the export cursor) is missing at its first seq", async () => {
    const a = await audited();
    await sql("DELETE FROM audit_events WHERE account_id = ? AND seq >= 3", a.id);
    expect(await verify(a.id)).toMatchObject({ ok: false, seq: 3, problem: "missing", exported_seq: 4 });
  });

  it("a trail rewritten with recomputed hashes is not the ledger's: head_mismatch", async () => {
    const a = await audited();
    const { results } = await DB.prepare("SELECT * FROM audit_events WHERE account_id = ? ORDER BY seq").bind(a.id).all<Record<string, unknown>>();
    let prev = GENESIS;
    for (const row of results.map(toAuditRecord)) {
      const forged = { ...row, amount: row.amount === null ? null : row.amount * 10 };
      const hash = chainHash(prev, forged);
      await sql("UPDATE audit_events SET amount = ?, prev_hash = ?, hash = ? WHERE account_id = ? AND seq = ?", forged.amount, prev, hash, a.id, row.seq);
      prev = hash;
    }
    expect(await verify(a.id)).toMatchObject({ ok: false, seq: 4, problem: "head_mismatch" });
  });

  it("an event in D1 that the ledger never wrote: unknown_in_d1", async () => {
    const a = await audited();
    const last = toAuditRecord(
      (await DB.prepare("SELECT * FROM audit_events WHERE account_id = ? AND seq = 4").bind(a.id).first<Record<string, unknown>>()) ?? {},
    );
    const extra = { ...last, seq: 5, amount: 1_000_000 };
    const hash = chainHash(last.hash, extra);
    await sql(
      "INSERT INTO audit_events (account_id, seq, at, actor, event, amount, outcome, prev_hash, hash) VALUES (?, 5, ?, ?, ?, ?, ?, ?, ?)",
      a.id,
      extra.at,
      extra.actor,
      extra.event,
      extra.amount,
      extra.outcome,
      last.hash,
      hash,
    );
    expect(await verify(a.id)).toMatchObject({ ok: false, seq: 5, problem: "unknown_in_d1" });
  });
});

describe("audit verification reads D1 a page at a time", () => {
  /** D1, counting the rows each query returns. */
  function counted(): { d1: D1Database; pages: number[] } {
    const pages: number[] = [];
    const d1 = {
      prepare: (q: string) => {
        const wrap = (stmt: D1PreparedStatement): D1PreparedStatement =>
          ({
            bind: (...args: unknown[]) => wrap(stmt.bind(...args)),
            all: async () => {
              const r = await stmt.all();
              pages.push(r.results.length);
              return r;
            },
          }) as unknown as D1PreparedStatement;
        return wrap(DB.prepare(q));
      },
    } as unknown as D1Database;
    return { d1, pages };
  }

  /** An account with `credits` + 1 events, all exported. */
  async function trail(credits: number): Promise<string> {
    const a = await createAccount();
    for (let i = 1; i <= credits; i++) await credit(a.id, i);
    await exportNow(a.id);
    return a.id;
  }

  it("a trail of several pages verifies, carrying the chain across pages, with no query over a page", async () => {
    const id = await trail(6); // events 1–7: pages of 3, 3, 1
    const { d1, pages } = counted();
    const r = await verifyAuditTrail(d1, ledgerFor(testEnv, id), id, 3);
    expect(r).toMatchObject({ ok: true, checked: 7, d1_head_seq: 7, exported_seq: 7, ledger_head_seq: 7, not_yet_exported: 0 });
    expect(pages).toEqual([3, 3, 1]);
    // The route's own page size gives the same answer.
    expect(await verifyAuditTrail(DB, ledgerFor(testEnv, id), id)).toEqual(r);
  });

  it("a trail that fills its last page exactly ends on an empty page", async () => {
    const id = await trail(3); // events 1–4: pages of 2, 2, 0
    const { d1, pages } = counted();
    expect(await verifyAuditTrail(d1, ledgerFor(testEnv, id), id, 2)).toMatchObject({ ok: true, checked: 4, d1_head_seq: 4 });
    expect(pages).toEqual([2, 2, 0]);
  });

  it("an event edited on a later page is found there, with every event before it counted", async () => {
    const id = await trail(6);
    await sql("UPDATE audit_events SET amount = amount + 1 WHERE account_id = ? AND seq = 6", id);
    const { d1, pages } = counted();
    expect(await verifyAuditTrail(d1, ledgerFor(testEnv, id), id, 2)).toMatchObject({ ok: false, seq: 6, problem: "hash_mismatch", checked: 5 });
    expect(pages).toEqual([2, 2, 2]);
  });

  it("an event deleted at a page boundary is missing, not a broken link", async () => {
    const id = await trail(6);
    await sql("DELETE FROM audit_events WHERE account_id = ? AND seq = 5", id);
    expect(await verifyAuditTrail(DB, ledgerFor(testEnv, id), id, 2)).toMatchObject({ ok: false, seq: 5, problem: "missing", checked: 4 });
  });

  it("a trail rewritten from a later page on is caught by the ledger's head", async () => {
    const id = await trail(4);
    const { results } = await DB.prepare("SELECT * FROM audit_events WHERE account_id = ? AND seq >= 3 ORDER BY seq").bind(id).all<Record<string, unknown>>();
    const before = await DB.prepare("SELECT hash FROM audit_events WHERE account_id = ? AND seq = 2").bind(id).first<{ hash: string }>();
    let prev = before?.hash ?? "";
    for (const row of results.map(toAuditRecord)) {
      const forged = { ...row, amount: (row.amount ?? 0) + 100 };
      const hash = chainHash(prev, forged);
      await sql("UPDATE audit_events SET amount = ?, prev_hash = ?, hash = ? WHERE account_id = ? AND seq = ?", forged.amount, prev, hash, id, row.seq);
      prev = hash;
    }
    expect(await verifyAuditTrail(DB, ledgerFor(testEnv, id), id, 2)).toMatchObject({ ok: false, seq: 5, problem: "head_mismatch" });
  });
});
