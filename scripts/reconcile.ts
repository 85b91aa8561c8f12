#!/usr/bin/env -S npx tsx
// `npm run reconcile -- --local | --remote --url https://gateway.example [--account acct_…] [--grace 300] [--repair]`
//
// Runs the reconciler (GET /v1/reconciliation) over every account, page by page, prints each
// discrepancy and exits 1 if there is any (0 when clean, 2 when the gateway could not be asked).
// With --repair, each `ledger_not_opened` (an account whose creation failed after its D1 row was
// written) is repaired by opening its ledger (POST /v1/reconciliation/repairs) and no longer
// counts; every other kind is only reported, since fixing it means moving money or history.
// The operator token comes from OPERATOR_TOKEN, or with --local from .dev.vars.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";

type Discrepancy = { account_id: string | null; seq: number | null; kind: string; detail: string };
type Page = { ok: boolean; accounts: number; transfers_checked: number; not_yet_exported: number; discrepancies: Discrepancy[]; next_cursor: string | null };

const LOCAL_URL = "http://127.0.0.1:8787";

function fail(message: string): never {
  console.error(`reconcile: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    local: { type: "boolean", default: false },
    remote: { type: "boolean", default: false },
    url: { type: "string" },
    account: { type: "string" },
    grace: { type: "string", default: "300" },
    json: { type: "boolean", default: false },
    repair: { type: "boolean", default: false },
  },
  strict: true,
});

if (values.local === values.remote) fail("say --local or --remote (with --url)");
const base = (values.url ?? process.env.TOLLGATE_URL ?? (values.local ? LOCAL_URL : fail("--remote needs --url (or TOLLGATE_URL)"))).replace(/\/+$/, "");
if (!/^\d{1,5}$/.test(values.grace ?? "")) fail("--grace: whole seconds");
if (values.account !== undefined && !/^acct_[0-9a-z]{1,40}$/.test(values.account)) fail("--account: an account id (acct_…)");
const token = process.env.OPERATOR_TOKEN ?? (values.local ? devVar("OPERATOR_TOKEN") : undefined) ?? fail("set OPERATOR_TOKEN (or, with --local, .dev.vars)");

/** A value from .dev.vars (KEY=value, optionally quoted), for local runs only. */
function devVar(name: string): string | undefined {
  if (!existsSync(".dev.vars")) return undefined;
  for (const line of readFileSync(".dev.vars", "utf8").split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (m?.[1] === name) return (m[2] ?? "").replace(/^(['"])(.*)\1$/, "$2");
  }
  return undefined;
}

/** Opens the ledger of an account reported as `ledger_not_opened`. */
async function repair(accountId: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${base}/v1/reconciliation/repairs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ account_id: accountId }),
    });
  } catch (err) {
    fail(`${base} did not answer (${(err as Error).message})`);
  }
  const text = await res.text();
  if (res.status !== 200) fail(`repairing ${accountId}: ${res.status} from ${base}: ${text.slice(0, 500)}`);
}

async function page(cursor: string | null): Promise<Page> {
  const q = new URLSearchParams({ limit: "50", grace_seconds: values.grace ?? "300" });
  if (values.account) q.set("account_id", values.account);
  if (cursor) q.set("cursor", cursor);
  let res: Response;
  try {
    res = await fetch(`${base}/v1/reconciliation?${q}`, { headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    fail(`${base} did not answer (${(err as Error).message}); is the gateway running (npm start)?`);
  }
  const text = await res.text();
  if (res.status !== 200) fail(`${res.status} from ${base}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as Page;
}

const found: Discrepancy[] = [];
let accounts = 0;
let checked = 0;
let pending = 0;
let repaired = 0;
let cursor: string | null = null;
do {
  const p = await page(cursor);
  accounts += p.accounts;
  checked += p.transfers_checked;
  pending += p.not_yet_exported;
  for (const d of p.discrepancies) {
    const fix = values.repair && d.kind === "ledger_not_opened" && d.account_id !== null;
    if (fix) {
      await repair(d.account_id as string);
      repaired++;
    } else found.push(d);
    const shown = fix ? `${d.detail}; repaired: ledger opened` : d.detail;
    if (!values.json) console.log(`${d.kind.padEnd(17)} ${(d.account_id ?? "(ledger)").padEnd(26)} ${String(d.seq ?? "-").padStart(6)}  ${shown}`);
  }
  cursor = p.next_cursor;
} while (cursor);

if (values.json)
  console.log(
    JSON.stringify({ ok: found.length === 0, accounts, transfers_checked: checked, not_yet_exported: pending, repaired, discrepancies: found }, null, 2),
  );
else {
  const summary = `${accounts} account(s), ${checked} transfer(s) checked, ${pending} not yet exported${values.repair ? `, ${repaired} repaired` : ""}`;
  console.log(found.length === 0 ? `ok: ${summary}, no discrepancy` : `FAILED: ${found.length} discrepancy(ies); ${summary}`);
}
process.exit(found.length === 0 ? 0 : 1);
