import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CSV_HEADER, csvCell, csvDocument, csvRow, entryCsvRow } from "../../worker/reports/csv";
import type { JournalEntry } from "../../worker/reports/entries";
import { parseCsv } from "./csv-reader";

/** Strings made of the characters that matter to CSV and spreadsheets. */
const tricky = fc.string({ unit: fc.constantFrom("a", "1", " ", ",", '"', "\r", "\n", "\t", "=", "+", "-", "@", "é"), maxLength: 12 });

describe("csvCell", () => {
  it("leaves plain text and numbers alone, empties null", () => {
    expect(csvCell("acct_123")).toBe("acct_123");
    expect(csvCell(2000)).toBe("2000");
    expect(csvCell(-5)).toBe("-5");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
    expect(csvCell("")).toBe("");
  });

  it("quotes a comma, a quote, CR or LF, doubling quotes (RFC 4180)", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("line1\nline2")).toBe('"line1\nline2"');
    expect(csvCell("x\ry")).toBe('"x\ry"');
  });

  it("neutralizes formulas: = + - @ tab and CR at the start get a leading '", () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe('"\'=HYPERLINK(""http://evil"",""x"")"');
    expect(csvCell("+1+1")).toBe("'+1+1");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\t=1")).toBe("'\t=1");
    expect(csvCell("\r=1")).toBe('"\'\r=1"');
    expect(csvCell("a=1")).toBe("a=1");
  });

  it("refuses NaN and Infinity rather than writing them", () => {
    expect(() => csvCell(Number.NaN)).toThrow();
    expect(() => csvCell(Number.POSITIVE_INFINITY)).toThrow();
  });

  it("round-trips any text through a strict reader, formulas defused", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 20 }), tricky), { minLength: 1, maxLength: 6 }), (cells) => {
        const [back] = parseCsv(csvRow(cells));
        expect(back).toEqual(cells.map((c) => (/^[=+\-@\t\r]/.test(c) ? `'${c}` : c)));
        for (const c of back ?? []) expect(c).not.toMatch(/^[=+\-@\t\r]/);
      }),
    );
  });
});

describe("csvDocument", () => {
  it("has a header row and CRLF after every record, the last included", () => {
    const doc = csvDocument(
      ["a", "b"],
      [
        [1, "x"],
        [2, null],
      ],
    );
    expect(doc).toBe("a,b\r\n1,x\r\n2,\r\n");
    expect(parseCsv(doc)).toEqual([
      ["a", "b"],
      ["1", "x"],
      ["2", ""],
    ]);
  });
});

describe("entryCsvRow", () => {
  const entry: JournalEntry = {
    id: "tr_1:1",
    date: "2026-06-01",
    created_at: "2026-06-01T10:00:00.000Z",
    debit_account: "acct_1",
    credit_account: "prov_1",
    amount: 1900,
    currency: "USD",
    transfer_id: "tr_1",
    transfer_kind: "capture",
    account_id: "acct_1",
    seq: 7,
    leg: 1,
    service_id: "svc_1",
    request_id: "req_1",
    mandate_id: null,
    reference: '=cmd|"/C calc"!A0',
    tags: { team: "growth", env: "prod" },
  };

  it("writes one column per header, tags sorted as name=value, text formulas defused", () => {
    const [row] = parseCsv(entryCsvRow(entry));
    expect(row).toHaveLength(CSV_HEADER.length);
    const byName = Object.fromEntries(CSV_HEADER.map((h, i) => [h, row?.[i]]));
    expect(byName).toMatchObject({ id: "tr_1:1", debit_account: "acct_1", credit_account: "prov_1", amount: "1900", seq: "7", leg: "1", mandate_id: "" });
    expect(byName.tags).toBe("env=prod,team=growth");
    expect(byName.reference).toBe('\'=cmd|"/C calc"!A0');
  });
});
