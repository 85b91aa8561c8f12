import { DurableObject } from "cloudflare:workers";
import type { Env } from "../worker/env";
import { exportTransfers } from "../worker/ledger/export";
import { platformFee } from "../worker/pricing/fees";
import { newId } from "../worker/ids";
import { MIGRATIONS } from "./schema";
import type {
  AgentKey,
  AgentView,
  Balance,
  CaptureResult,
  CaptureDetail,
  CreditInput,
  CreditResult,
  Hold,
  OpenResult,
  Page,
  ReserveInput,
  ReserveResult,
  Transfer,
  UsageReportResult,
  VoidResult,
} from "./types";
import { type PriceRule, settlement } from "../worker/pricing/rules";

/** How soon after a write the alarm exports the journal to D1 (batches what arrives meanwhile). */
const EXPORT_DELAY_MS = 500;
/** Retry delay when D1 fails during export: nothing is lost, the cursor simply does not move. */
const EXPORT_RETRY_MS = 2_000;
const EXPORT_BATCH = 100;

type Row = Record<string, SqlStorageValue>;

/**
 * AccountLedger: one per payer account, the single writer of its money. Every money-moving
 * method is one `transactionSync` with no `await` inside, so calls never interleave within it.
 */
export class AccountLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** When the one alarm is next due, mirrored in memory to avoid a storage read per write. */
  private alarmAt: number | null = null;
  /** Account id and currency never change once opened, so they are read from storage once. */
  private cachedMeta: { accountId: string; currency: string } | null = null;
  private opened = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // An account that was never opened keeps no schema, so a forged key for a made-up
    // account id writes nothing.
    if (this.isOpened()) this.migrate();
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Creates the account's ledger; repeating it with the same values is a no-op. */
  open(accountId: string, currency: string): OpenResult {
    this.migrate();
    return this.ctx.storage.transactionSync(() => {
      const existing = this.meta();
      if (existing && (existing.accountId !== accountId || existing.currency !== currency)) {
        return { ok: false, code: "conflict" } as const;
      }
      this.sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('account_id', ?), ('currency', ?)", accountId, currency);
      this.cachedMeta = { accountId, currency };
      return { ok: true, account_id: accountId, currency } as const;
    });
  }

  balance(): Balance | null {
    return this.meta() ? this.readBalance() : null;
  }

  /** A top-up from outside money (I3: the same idempotency key and body replays the first result). */
  async credit(input: CreditInput): Promise<CreditResult> {
    const result = this.ctx.storage.transactionSync((): CreditResult => {
      const meta = this.meta();
      if (!meta) return { ok: false, code: "not_found" };
      if (input.idempotencyKey) {
        const prior = this.one("SELECT fingerprint, response FROM idempotency WHERE key = ?", `credit:${input.idempotencyKey}`);
        if (prior) {
          if (prior.fingerprint !== input.fingerprint) return { ok: false, code: "idempotency_mismatch" };
          return { ...(JSON.parse(String(prior.response)) as Extract<CreditResult, { ok: true }>), replayed: true };
        }
      }
      const now = Date.now();
      this.sql.exec("UPDATE balance SET credits = credits + ? WHERE id = 1", input.amount);
      const transfer = this.appendTransfer({ kind: "credit", amount: input.amount, reference: input.reference, now });
      const response = { ok: true as const, replayed: false, transfer, balance: this.readBalance() };
      if (input.idempotencyKey) {
        this.sql.exec(
          "INSERT INTO idempotency (key, fingerprint, response, created_at) VALUES (?, ?, ?, ?)",
          `credit:${input.idempotencyKey}`,
          input.fingerprint,
          JSON.stringify(response),
          now,
        );
      }
      return response;
    });
    if (result.ok && !result.replayed) await this.scheduleAlarm(Date.now() + EXPORT_DELAY_MS);
    return result;
  }

  /** Key check and hold in one transaction: the call is forwarded only if this succeeds. */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const now = Date.now();
    const expiresAt = now + input.ttlMs;
    const result = this.ctx.storage.transactionSync((): ReserveResult => {
      const meta = this.meta();
      const key = meta && this.one("SELECT id FROM agent_keys WHERE key_hash = ? AND revoked_at IS NULL", input.keyHash);
      if (!meta || !key) return { ok: false, code: "invalid_key" };
      const before = this.readBalance();
      if (input.amount > before.available) {
        return { ok: false, code: "insufficient_funds", price: input.amount, available: before.available, currency: meta.currency };
      }
      const holdId = newId("hold");
      this.sql.exec(
        `INSERT INTO holds (id, request_id, agent_key_id, service_id, provider_id, fee_bps, amount, state, created_at, expires_at, rule)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
        holdId,
        input.requestId,
        String(key.id),
        input.serviceId,
        input.providerId,
        input.feeBps,
        input.amount,
        now,
        expiresAt,
        input.deferredRule ? JSON.stringify(input.deferredRule) : null,
      );
      this.sql.exec("UPDATE balance SET pending = pending + ? WHERE id = 1", input.amount);
      return {
        ok: true,
        hold_id: holdId,
        agent_key_id: String(key.id),
        amount: input.amount,
        available: before.available - input.amount,
        currency: meta.currency,
      };
    });
    if (result.ok) await this.scheduleAlarm(expiresAt);
    return result;
  }

  /** Settles a pending hold for `amount` ≤ the hold; the rest is released (I4). */
  async capture(holdId: string, amount: number, detail: CaptureDetail = {}): Promise<CaptureResult> {
    const result = this.ctx.storage.transactionSync(() => this.captureNow(holdId, amount, detail));
    if (result.ok && result.transfer) await this.scheduleAlarm(Date.now() + EXPORT_DELAY_MS);
    return result;
  }

  /**
   * The provider's report of what a deferred call used (`POST /v1/usage`): priced by the rule
   * kept on the hold, captured up to the hold. Only the service's provider may report.
   */
  async reportUsage(requestId: string, providerId: string, units: number): Promise<UsageReportResult> {
    const result = this.ctx.storage.transactionSync((): UsageReportResult => {
      const row = this.isOpened() ? this.one("SELECT id, rule, provider_id FROM holds WHERE request_id = ?", requestId) : null;
      if (!row || row.provider_id !== providerId) return { ok: false, code: "unknown_request" };
      if (row.rule == null) return { ok: false, code: "not_deferred" };
      const hold = this.readHold(String(row.id)) as Hold;
      if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
      const rule = JSON.parse(String(row.rule)) as PriceRule;
      const { amount, shortfall } = settlement(rule, { units }, hold.amount);
      const captured = this.captureNow(hold.id, amount, { usage: { units }, shortfall, reason: "usage_reported" });
      if (!captured.ok) throw new Error(`capture of a pending hold failed: ${captured.code}`);
      return { ok: true, hold: captured.hold, transfer: captured.transfer };
    });
    if (result.ok && result.transfer) await this.scheduleAlarm(Date.now() + EXPORT_DELAY_MS);
    return result;
  }

  private captureNow(holdId: string, amount: number, detail: CaptureDetail): CaptureResult {
    const hold = this.readHold(holdId);
    if (!hold) return { ok: false, code: "unknown_hold" };
    if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
    if (amount > hold.amount) return { ok: false, code: "amount_exceeds_hold" };
    const now = Date.now();
    const reason = detail.reason ?? "origin_succeeded";
    this.resolveHold(holdId, "captured", amount, reason, now);
    this.sql.exec("UPDATE balance SET pending = pending - ?, debits = debits + ? WHERE id = 1", hold.amount, amount);
    const transfer =
      amount > 0
        ? this.appendTransfer({ kind: "capture", amount, fee: platformFee(amount, hold.fee_bps), hold, now, detail: { ...detail, reason } })
        : null;
    return { ok: true, hold: this.readHold(holdId) as Hold, transfer, balance: this.readBalance() };
  }

  /** Releases a pending hold without charge (the origin failed, or the call never happened). */
  void(holdId: string, reason: string): VoidResult {
    return this.ctx.storage.transactionSync((): VoidResult => {
      const hold = this.readHold(holdId);
      if (!hold) return { ok: false, code: "unknown_hold" };
      if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
      this.resolveHold(holdId, "voided", null, reason, Date.now());
      this.sql.exec("UPDATE balance SET pending = pending - ? WHERE id = 1", hold.amount);
      return { ok: true, hold: this.readHold(holdId) as Hold, balance: this.readBalance() };
    });
  }

  hold(holdId: string): Hold | null {
    return this.isOpened() ? this.readHold(holdId) : null;
  }

  /** The journal, newest first; `cursor` is the seq to continue below. */
  transfers(limit: number, cursor: number | null): Page<Transfer> {
    if (!this.meta()) return { data: [], next_cursor: null };
    const rows = this.all(
      "SELECT * FROM transfers WHERE seq < ? ORDER BY seq DESC LIMIT ?",
      cursor ?? Number.MAX_SAFE_INTEGER,
      limit + 1,
    );
    const data = rows.slice(0, limit).map((r) => this.toTransfer(r));
    return { data, next_cursor: rows.length > limit ? String(data[data.length - 1]?.seq) : null };
  }

  createAgentKey(id: string, name: string, keyHash: string): AgentKey | null {
    if (!this.meta()) return null;
    const now = Date.now();
    this.sql.exec("INSERT INTO agent_keys (id, name, key_hash, created_at) VALUES (?, ?, ?, ?)", id, name, keyHash, now);
    return { id, name, created_at: new Date(now).toISOString(), revoked_at: null };
  }

  /** Revokes a key; the next reserve with it fails. Returns null for a key this account lacks. */
  revokeAgentKey(id: string): AgentKey | null {
    if (!this.meta()) return null;
    this.sql.exec("UPDATE agent_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Date.now(), id);
    const row = this.one("SELECT * FROM agent_keys WHERE id = ?", id);
    return row ? toAgentKey(row) : null;
  }

  agentKeys(limit: number, cursor: string | null): Page<AgentKey> {
    if (!this.meta()) return { data: [], next_cursor: null };
    const rows = this.all("SELECT * FROM agent_keys WHERE id > ? ORDER BY id LIMIT ?", cursor ?? "", limit + 1);
    const data = rows.slice(0, limit).map(toAgentKey);
    return { data, next_cursor: rows.length > limit ? (data[data.length - 1]?.id ?? null) : null };
  }

  /** What an agent key may see of itself: its account, its key and the balance. */
  agent(keyHash: string): AgentView {
    const meta = this.meta();
    const row = meta && this.one("SELECT * FROM agent_keys WHERE key_hash = ? AND revoked_at IS NULL", keyHash);
    if (!meta || !row) return { ok: false, code: "invalid_key" };
    return { ok: true, account_id: meta.accountId, key: toAgentKey(row), balance: this.readBalance() };
  }

  /** The one alarm: expire overdue holds (I10), export the journal (I7), schedule the next run. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.meta()) return;
    this.expireHolds(Date.now());
    let retry = false;
    try {
      await this.exportJournal();
    } catch (err) {
      console.error("journal export failed; retrying", err);
      retry = true;
    }
    const next = retry || this.unexported() > 0 ? Date.now() + (retry ? EXPORT_RETRY_MS : 0) : this.nextExpiry();
    if (next !== null) await this.scheduleAlarm(next);
  }

  /** Sends everything after the export cursor to D1, in batches, then moves the cursor. */
  private async exportJournal(): Promise<void> {
    const meta = this.meta();
    if (!meta) return;
    for (;;) {
      const from = Number(this.one("SELECT exported_seq FROM export_state WHERE id = 1")?.exported_seq ?? 0);
      const rows = this.all("SELECT * FROM transfers WHERE seq > ? ORDER BY seq LIMIT ?", from, EXPORT_BATCH);
      if (rows.length === 0) return;
      const batch = rows.map((r) => this.toTransfer(r));
      // At-least-once: if we die after D1 commits but before the cursor moves, the next run
      // sends the same rows and D1's ON CONFLICT DO NOTHING on (account, seq) drops them.
      await exportTransfers(this.env.DB, meta.accountId, batch);
      const last = batch[batch.length - 1]?.seq ?? from;
      this.sql.exec("UPDATE export_state SET exported_seq = MAX(exported_seq, ?) WHERE id = 1", last);
    }
  }

  private expireHolds(now: number): void {
    this.ctx.storage.transactionSync(() => {
      const due = this.all("SELECT id, amount FROM holds WHERE state = 'pending' AND expires_at <= ?", now);
      for (const hold of due) {
        this.resolveHold(String(hold.id), "expired", null, "hold_timeout", now);
        this.sql.exec("UPDATE balance SET pending = pending - ? WHERE id = 1", Number(hold.amount));
      }
    });
  }

  private async scheduleAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private unexported(): number {
    const row = this.one("SELECT COUNT(*) AS n FROM transfers WHERE seq > (SELECT exported_seq FROM export_state WHERE id = 1)");
    return Number(row?.n ?? 0);
  }

  private nextExpiry(): number | null {
    const row = this.one("SELECT MIN(expires_at) AS at FROM holds WHERE state = 'pending'");
    return row?.at == null ? null : Number(row.at);
  }

  private appendTransfer(t: {
    kind: Transfer["kind"];
    amount: number;
    fee?: number;
    reference?: string | null;
    hold?: Hold;
    now: number;
    detail?: CaptureDetail;
  }): Transfer {
    const seq = Number(this.one("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM transfers")?.seq);
    const id = newId("tr");
    this.sql.exec(
      `INSERT INTO transfers (seq, id, kind, amount, fee, hold_id, request_id, service_id, provider_id, agent_key_id, reference, created_at,
         usage, shortfall, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      seq,
      id,
      t.kind,
      t.amount,
      t.fee ?? 0,
      t.hold?.id ?? null,
      t.hold?.request_id ?? null,
      t.hold?.service_id ?? null,
      t.hold?.provider_id ?? null,
      t.hold?.agent_key_id ?? null,
      t.reference ?? null,
      t.now,
      t.detail?.usage ? JSON.stringify(t.detail.usage) : null,
      t.detail?.shortfall ?? 0,
      t.detail?.reason ?? null,
    );
    return this.toTransfer(this.one("SELECT * FROM transfers WHERE seq = ?", seq) as Row);
  }

  /** The guarded transition out of `pending`: it can happen once per hold (I4). */
  private resolveHold(id: string, state: Exclude<Hold["state"], "pending">, captured: number | null, reason: string, now: number) {
    const cursor = this.sql.exec(
      "UPDATE holds SET state = ?, captured = ?, reason = ?, resolved_at = ? WHERE id = ? AND state = 'pending'",
      state,
      captured,
      reason,
      now,
      id,
    );
    if (cursor.rowsWritten !== 1) throw new Error(`hold ${id} is no longer pending`);
  }

  private readBalance(): Balance {
    const row = this.one("SELECT credits, debits, pending FROM balance WHERE id = 1") as Row;
    const posted = Number(row.credits) - Number(row.debits);
    const pending = Number(row.pending);
    return { currency: this.meta()?.currency ?? "", posted, pending, available: posted - pending };
  }

  private readHold(id: string): Hold | null {
    const r = this.one("SELECT * FROM holds WHERE id = ?", id);
    if (!r) return null;
    return {
      id: String(r.id),
      request_id: String(r.request_id),
      agent_key_id: String(r.agent_key_id),
      service_id: String(r.service_id),
      provider_id: String(r.provider_id),
      fee_bps: Number(r.fee_bps),
      amount: Number(r.amount),
      captured: r.captured == null ? null : Number(r.captured),
      state: String(r.state) as Hold["state"],
      reason: r.reason == null ? null : String(r.reason),
      created_at: iso(r.created_at),
      expires_at: iso(r.expires_at),
      resolved_at: r.resolved_at == null ? null : iso(r.resolved_at),
      deferred: r.rule != null,
    };
  }

  private toTransfer(r: Row): Transfer {
    const text = (v: SqlStorageValue) => (v == null ? null : String(v));
    return {
      id: String(r.id),
      seq: Number(r.seq),
      kind: String(r.kind) as Transfer["kind"],
      amount: Number(r.amount),
      fee: Number(r.fee),
      currency: this.meta()?.currency ?? "",
      hold_id: text(r.hold_id ?? null),
      request_id: text(r.request_id ?? null),
      service_id: text(r.service_id ?? null),
      provider_id: text(r.provider_id ?? null),
      agent_key_id: text(r.agent_key_id ?? null),
      reference: text(r.reference ?? null),
      usage: r.usage == null ? null : (JSON.parse(String(r.usage)) as Transfer["usage"]),
      shortfall: Number(r.shortfall ?? 0),
      reason: text(r.reason ?? null),
      created_at: iso(r.created_at),
    };
  }

  private meta(): { accountId: string; currency: string } | null {
    if (this.cachedMeta) return this.cachedMeta;
    if (!this.isOpened()) return null;
    const rows = this.all("SELECT key, value FROM meta WHERE key IN ('account_id', 'currency')");
    const get = (k: string) => rows.find((r) => r.key === k)?.value;
    const accountId = get("account_id");
    const currency = get("currency");
    this.cachedMeta = accountId && currency ? { accountId: String(accountId), currency: String(currency) } : null;
    return this.cachedMeta;
  }

  private isOpened(): boolean {
    this.opened ||= this.one("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'meta'") !== null;
    return this.opened;
  }

  /** Brings the schema to the newest version; each step in its own transaction. */
  private migrate(): void {
    const tableExists = this.isOpened();
    let version = tableExists ? Number(this.one("SELECT value FROM meta WHERE key = 'schema_version'")?.value ?? 0) : 0;
    while (version < MIGRATIONS.length) {
      const step = MIGRATIONS[version] as string;
      const next = version + 1;
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(step);
        this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", String(next));
      });
      version = next;
    }
  }

  private one(query: string, ...params: SqlStorageValue[]): Row | null {
    return (this.sql.exec(query, ...params).toArray()[0] as Row | undefined) ?? null;
  }

  private all(query: string, ...params: SqlStorageValue[]): Row[] {
    return this.sql.exec(query, ...params).toArray() as Row[];
  }
}

function iso(ms: SqlStorageValue | undefined): string {
  return new Date(Number(ms)).toISOString();
}

function toAgentKey(r: Row): AgentKey {
  return {
    id: String(r.id),
    name: String(r.name),
    created_at: iso(r.created_at),
    revoked_at: r.revoked_at == null ? null : iso(r.revoked_at),
  };
}
