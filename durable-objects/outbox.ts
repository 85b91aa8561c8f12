import { nextCallKeyExpiry, pruneCallKeys } from "./call-keys";
import { exportPage, outboxPageSql } from "./export-page";
import type { Journal } from "./journal";

/**
 * How soon after a write the alarm exports the journal to D1 (batching what arrives meanwhile):
 * EXPORT_DELAY_MS plus a random part up to EXPORT_JITTER_MS. The random part keeps accounts
 * that got busy together from exporting together ever after: in step, their exports arrive as
 * bursts that stall the calls queued behind them (the fixed-rate p99 in bench/ showed it).
 */
const EXPORT_DELAY_MS = 500;
const EXPORT_JITTER_MS = 500;
/** Retry delay when D1 fails during export: nothing is lost, the cursor simply does not move. */
const EXPORT_RETRY_MS = 2_000;
const EXPORT_BATCH = 100;

/** When an export scheduled now should run (see EXPORT_DELAY_MS). */
export function exportDue(): number {
  return Date.now() + EXPORT_DELAY_MS + Math.floor(Math.random() * EXPORT_JITTER_MS);
}

/**
 * The account's one alarm and what it sends to D1: the journal and the audit trail after the
 * export cursors (I7), at least once. The alarm also expires overdue holds (I10), renews or ends
 * passes, and forgets old idempotency keys; the expiry itself is the holds' and passes' job,
 * handed in as `expire`.
 */
export class Outbox {
  /** When the one alarm is next due, mirrored in memory to avoid a storage read per write. */
  private alarmAt: number | null = null;

  constructor(
    private readonly journal: Journal,
    private readonly storage: DurableObjectStorage,
    /** Null for a hot account's shard: its journal goes to its parent, never to D1 (shard.ts). */
    private readonly db: D1Database | null,
  ) {}

  /** Reads the alarm once, at construction (inside blockConcurrencyWhile). */
  async load(): Promise<void> {
    this.alarmAt = await this.storage.getAlarm();
  }

  async scheduleAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.storage.setAlarm(at);
  }

  /**
   * Events that move no money (keys, mandates, refusals, voids) schedule no export of their own;
   * without this they would reach D1 only with the account's next money movement, or never.
   */
  async exportAudit(): Promise<void> {
    if (this.journal.takeAuditUnsent()) await this.scheduleAlarm(exportDue());
  }

  /** The one alarm: expire overdue holds (I10), export journal and audit (I7), schedule the next run. */
  async alarm(expire: (now: number) => void): Promise<void> {
    this.alarmAt = null;
    if (!this.journal.meta()) return;
    expire(Date.now());
    pruneCallKeys(this.journal.sql, Date.now());
    let next: number | null;
    try {
      await this.exportToD1();
      // Every write schedules its own export, so what arrived during this one is already due.
      next = this.nextExpiry();
    } catch (err) {
      console.error("export to D1 failed; retrying", err);
      next = Date.now() + EXPORT_RETRY_MS;
    }
    if (next !== null) await this.scheduleAlarm(next);
  }

  /**
   * Exports now, the caller waiting for D1, so that what it just wrote can be found there when it
   * answers (a dispute must be findable by its provider at once). If D1 fails, the alarm retries.
   */
  async exportNow(): Promise<void> {
    try {
      await this.exportToD1();
    } catch (err) {
      console.error("export to D1 failed; the alarm retries", err);
      await this.scheduleAlarm(Date.now() + EXPORT_RETRY_MS);
    }
  }

  /** How far the journal has reached D1 (for the reconciler, I7): rows after `exported_seq` are not yet exported. */
  cursor(): { exported_seq: number; journal_seq: number } {
    const row = this.journal.sql.one("SELECT exported_seq AS e, (SELECT COALESCE(MAX(seq), 0) FROM transfers) AS j FROM export_state WHERE id = 1");
    return { exported_seq: Number(row?.e ?? 0), journal_seq: Number(row?.j ?? 0) };
  }

  /** Sends everything after the export cursors to D1, a page at a time, moving the cursors after each. */
  private async exportToD1(): Promise<void> {
    const meta = this.journal.meta();
    const db = this.db;
    if (!meta || !db) return;
    const sql = this.journal.sql;
    for (;;) {
      const page = sql.one(outboxPageSql, meta.currency, EXPORT_BATCH);
      // At-least-once: if we die after D1 commits but before the cursors move, the next run
      // sends the same rows and D1's ON CONFLICT DO NOTHING on (account, seq) drops them.
      const sent = await exportPage(db, meta.accountId, {
        transfers: String(page?.transfers ?? "[]"),
        audit: String(page?.audit ?? "[]"),
        disputes: String(page?.disputes ?? "[]"),
      });
      if (sent.transfers === 0 && sent.audit === 0 && sent.disputes === 0) return;
      sql.exec(
        `UPDATE export_state SET exported_seq = MAX(exported_seq, COALESCE(?, 0)), audit_exported_seq = MAX(audit_exported_seq, COALESCE(?, 0)),
           disputes_exported_version = MAX(disputes_exported_version, COALESCE(?, 0)) WHERE id = 1`,
        sent.lastSeq,
        sent.lastAuditSeq,
        sent.lastDisputeVersion,
      );
      if (sent.transfers < EXPORT_BATCH && sent.audit < EXPORT_BATCH && sent.disputes < EXPORT_BATCH) return;
    }
  }

  /** The next thing the alarm must do on time: expire a hold, renew or end a pass, or forget an idempotency key. */
  private nextExpiry(): number | null {
    const row = this.journal.sql.one(
      `SELECT (SELECT MIN(expires_at) FROM holds WHERE state = 'pending') AS hold,
         (SELECT MIN(expires_at) FROM passes WHERE status IN ('active', 'used_up')) AS pass`,
    );
    const at = (v: unknown) => (v == null ? null : Number(v));
    const dues = [at(row?.hold), at(row?.pass), nextCallKeyExpiry(this.journal.sql)].filter((t): t is number => t !== null);
    return dues.length > 0 ? Math.min(...dues) : null;
  }
}
