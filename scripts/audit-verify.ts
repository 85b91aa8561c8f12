#!/usr/bin/env -S npx tsx
// `npm run audit:verify -- --account acct_… --local | --remote [--database DB] [--persist-to DIR]`
//
// Reads one account's audit trail straight from D1 (`wrangler d1 execute … --json`) and recomputes
// its hash chain with core/audit-chain.ts, the code the ledger writes it with. Exit 0: the chain
// is intact; 1: the first broken or missing event is printed; 2: D1 could not be read.
// D1 alone cannot show a cut-off tail or a wholesale rewrite: GET /v1/accounts/{id}/audit/verify
// also compares D1's head with the ledger's; compare the printed head hash with the ledger's.
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { CHAIN_START, type ChainCheck, type ChainPosition, toAuditRecord, verifyChain } from "../core/audit-chain.ts";

const PAGE = 1000;

function fail(message: string): never {
  console.error(`audit:verify: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    account: { type: "string" },
    local: { type: "boolean", default: false },
    remote: { type: "boolean", default: false },
    database: { type: "string", default: "DB" },
    "persist-to": { type: "string" },
  },
  strict: true,
});

const account = values.account ?? fail("--account acct_… is required");
// The id is spliced into SQL (wrangler's --command takes no parameters): only an id's characters pass.
if (!/^acct_[0-9a-z]{1,40}$/.test(account)) fail("--account: an account id (acct_ followed by 0-9 a-z)");
if (values.local === values.remote) fail("say --local or --remote");
const database = values.database ?? "DB";
if (!/^[A-Za-z0-9_-]{1,64}$/.test(database)) fail("--database: a binding or database name");

/** One page of D1 rows after `afterSeq`, via wrangler. */
function rows(afterSeq: number): Record<string, unknown>[] {
  const sql = `SELECT * FROM audit_events WHERE account_id = '${account}' AND seq > ${afterSeq} ORDER BY seq LIMIT ${PAGE}`;
  const args = ["wrangler", "d1", "execute", database, values.local ? "--local" : "--remote", "--json", "--command", sql];
  if (values["persist-to"]) args.push("--persist-to", values["persist-to"]);
  const run = spawnSync("npx", args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  if (run.error) fail(`could not run wrangler: ${run.error.message}`);
  if (run.status !== 0) fail(`wrangler failed (${run.status}):\n${run.stderr || run.stdout}`);
  const start = run.stdout.indexOf("[");
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout.slice(start));
  } catch {
    fail(`wrangler did not print JSON:\n${run.stdout.slice(0, 500)}`);
  }
  const first = Array.isArray(parsed) ? (parsed[0] as { results?: unknown; success?: boolean }) : undefined;
  if (!first || first.success === false || !Array.isArray(first.results)) fail(`unexpected answer from wrangler: ${run.stdout.slice(0, 500)}`);
  return first.results as Record<string, unknown>[];
}

// A page at a time, each continuing the chain from the page before: memory stays one page.
let at: ChainPosition = CHAIN_START;
let check: ChainCheck;
for (;;) {
  const page = rows(at.seq).map(toAuditRecord);
  check = verifyChain(page, at);
  if (!check.ok || page.length < PAGE) break;
  at = { seq: check.head_seq, hash: check.head_hash };
}

if (check.ok) {
  console.log(
    `ok: ${account}: ${check.checked} event(s) in D1 chain correctly; head seq ${check.head_seq}, hash ${check.checked === 0 ? "-" : check.head_hash}`,
  );
  process.exit(0);
}
console.log(`FAILED: ${account}: ${check.problem} at event ${check.seq}: ${check.detail} (${check.checked} event(s) verified before it)`);
process.exit(1);
