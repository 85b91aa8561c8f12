import { getTableColumns } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { auditEvents, disputes, ledgerEntries, transfers } from "../../worker/db/schema";
import { AUDIT_COLUMNS, DISPUTE_COLUMNS, exportPage, TRANSFER_COLUMNS } from "../../durable-objects/export-page";

// The D1 export writes its INSERT column lists by hand (it runs inside the ledger's Durable Object),
// apart from the drizzle schema that owns the tables. These tests tie the two together: a column
// added to, renamed in or dropped from a table fails here until the export follows.

/** The INSERT statements `exportPage` sends for one page holding a transfer, an audit event and a dispute, by table. */
async function insertColumns(): Promise<Map<string, string[]>> {
  const sql: string[] = [];
  const d1 = {
    prepare(query: string) {
      sql.push(query);
      return { bind: () => ({}) };
    },
    batch: async () => [],
  } as unknown as D1Database;
  const transfer = TRANSFER_COLUMNS.map(
    (c) => ({ seq: 1, id: "tr_1", kind: "credit", amount: 100, currency: "USD", shortfall: 0, fee: 0, created_at: 1 })[c as string] ?? null,
  );
  const audit = AUDIT_COLUMNS.map((c) => (c === "seq" ? 1 : "x"));
  const dispute = DISPUTE_COLUMNS.map((c) => (c === "version" ? 1 : "x"));
  await exportPage(d1, "acct_1", { transfers: JSON.stringify([transfer]), audit: JSON.stringify([audit]), disputes: JSON.stringify([dispute]) });
  const out = new Map<string, string[]>();
  for (const q of sql) {
    const m = /^INSERT INTO (\w+) \(([^)]+)\)/.exec(q);
    if (m?.[1] && m[2])
      out.set(
        m[1],
        m[2].split(",").map((c) => c.trim()),
      );
  }
  return out;
}

/** The table's columns (SQL names), and those D1 fills itself when an INSERT leaves them out. */
function columnsOf(table: SQLiteTable) {
  const columns = Object.values(getTableColumns(table));
  return { all: columns.map((c) => c.name), defaulted: columns.filter((c) => c.hasDefault).map((c) => c.name) };
}

describe("the D1 export's column lists match worker/db/schema.ts", () => {
  it.each([
    ["transfers", transfers],
    ["ledger_entries", ledgerEntries],
    ["audit_events", auditEvents],
    ["disputes", disputes],
  ] as const)("%s: every column the export writes exists, and every column it leaves out has a default", async (name, table) => {
    const written = (await insertColumns()).get(name);
    expect(written, `no INSERT INTO ${name}`).toBeDefined();
    const { all, defaulted } = columnsOf(table);
    expect(new Set(written).size, "a column written twice").toBe(written?.length);
    for (const c of written ?? []) expect(all, `${name}.${c} is written by the export but not in the schema`).toContain(c);
    for (const c of all) if (!written?.includes(c)) expect(defaulted, `${name}.${c} is in the schema but the export never writes it`).toContain(c);
  });

  it("the exported lists name the same columns as the INSERTs (after account_id)", async () => {
    const inserts = await insertColumns();
    expect(inserts.get("transfers")).toEqual(["account_id", ...TRANSFER_COLUMNS]);
    expect(inserts.get("audit_events")).toEqual(["account_id", ...AUDIT_COLUMNS]);
    expect(inserts.get("disputes")).toEqual(["account_id", ...DISPUTE_COLUMNS]);
  });
});
