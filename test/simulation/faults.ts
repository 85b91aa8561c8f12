/**
 * Faults: crashes between steps (`abortAllDurableObjects`, `evictDurableObject`; both reach only
 * ledger.sim.test.ts's objects), D1 failing during export (a trigger on one D1 table refuses the
 * account's rows), and alarm runs (export, possibly delivered twice). After an alarm with D1
 * failing: the cursors did not move and a retry alarm is set.
 */
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import { ledger, sleep, testEnv } from "../durable-objects/helpers";
import { count, type Outcome, type Real } from "./knobs";
import type { LedgerModel } from "./model";
import { d1Dump, rawState } from "./real-ledger";

export async function crash(r: Real, kind: "abort" | "evict"): Promise<void> {
  if (kind === "abort") await abortAllDurableObjects();
  else await evictDurableObject(r.stub).catch(() => undefined); // not running: nothing to evict
  r.stub = ledger(r.accountId); // a stub of an aborted object is broken; callers get a new one
}

export async function breakD1(m: LedgerModel, table: "transfers" | "ledger_entries" | "audit_events"): Promise<void> {
  const trigger = `sim_fail_${m.accountId}`;
  await testEnv.DB.prepare(
    `CREATE TRIGGER ${trigger} BEFORE INSERT ON ${table} WHEN NEW.account_id = '${m.accountId}' BEGIN SELECT RAISE(ABORT, 'simulated D1 outage'); END`,
  ).run();
  m.d1Fault = { table, trigger };
}

export async function restoreD1(m: LedgerModel): Promise<void> {
  if (!m.d1Fault) return;
  await testEnv.DB.prepare(`DROP TRIGGER IF EXISTS ${m.d1Fault.trigger}`).run();
  m.d1Fault = null;
}

export async function runAlarm(r: Real, how: "scheduled" | "direct"): Promise<void> {
  if (how === "scheduled" && (await runDurableObjectAlarm(r.stub))) return;
  await runInDurableObject(r.stub, (instance: AccountLedger) => instance.alarm());
}

/**
 * One alarm (and, if `twice`, its duplicate delivery). Overdue holds expire; the export either
 * lands everything, or — when the injected D1 fault refuses a row it must send — moves nothing
 * and leaves a retry alarm.
 */
export async function alarmStep(m: LedgerModel, r: Real, how: "scheduled" | "direct", twice: boolean): Promise<Outcome> {
  await sleep(3); // every 1 ms hold of this step is overdue
  const before = (await rawState(r.stub)).cursor;
  m.expireOverdue();
  m.alarms++;
  const fault = m.d1Fault;
  const fails =
    fault !== null && ((fault.table === "audit_events" && m.auditLength > before.a) || (fault.table !== "audit_events" && m.journal.length > before.e));
  count(fails ? "export:failed" : m.d1Fault ? "export:ok-despite-fault" : "export:ok");
  await runAlarm(r, how);
  if (twice) {
    const once = await d1Dump(r.accountId);
    await runAlarm(r, "direct");
    expect(await d1Dump(r.accountId), "an alarm delivered twice changes nothing").toEqual(once);
  }
  if (!fails) return { exportedAll: true };
  const after = await rawState(r.stub);
  expect(after.cursor, "a failed export moves no cursor").toEqual(before);
  expect(after.alarm, "a failed export schedules its retry").not.toBeNull();
}
