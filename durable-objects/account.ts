import { DurableObject } from "cloudflare:workers";
import { sha256Hex } from "../worker/audit/chain";
import type { Env } from "../worker/env";
import { newId } from "../worker/ids";
import { exportPage, outboxPageSql } from "../worker/ledger/export";
import { mergeTags, type Tags } from "../worker/ledger/tags";
import { platformFee } from "../worker/pricing/fees";
import { type PriceRule, settlement } from "../worker/pricing/rules";
import { appendAudit, type AuditEntry, type AuditHead, readAuditHead } from "./audit-log";
import { checkMandate, utcDay } from "./mandate-check";
import { holdUnder, insertMandate, limitsOf, mandateRow, settleUnder, useOf } from "./mandates";
import { toAgentKey, toAuditEvent, toHold, toMandate, toTransfer } from "./rows";
import { MIGRATIONS } from "./schema";
import { jsonOrNull, type Row, Sql } from "./sql";
import { countCall, limitsOfKey, retryAfterSeconds, velocityCheck } from "./velocity";
import { endCall, nextCallKeyExpiry, priorCall, pruneCallKeys, rememberCall } from "./call-keys";
import type {
  Actor,
  AgentKey,
  AgentView,
  AuditEvent,
  Balance,
  CaptureDetail,
  CaptureResult,
  CreditInput,
  CreditResult,
  ExtendResult,
  Failure,
  Hold,
  KeyLimits,
  Mandate,
  MandateInput,
  OpenResult,
  Page,
  ReserveInput,
  ReserveResult,
  Settlement,
  SettlementOutcome,
  StoredResponse,
  Transfer,
  UsageReportResult,
  VoidResult,
} from "./types";

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

type Meta = { accountId: string; currency: string; frozen: boolean };
/** A capture inside a transaction; callers that answer with the balance read it after. */
type Captured = Exclude<CaptureResult, { ok: true }> | Omit<Extract<CaptureResult, { ok: true }>, "balance">;

/**
 * AccountLedger: one per payer account, the single writer of its money. Every money-moving
 * method is one `transactionSync` with no `await` inside, so calls never interleave within it,
 * and each writes its audit event in the same transaction. Requests run in arrival order;
 * concurrent reserves are gathered so that their transactions share one commit (`gathered`).
 */
export class AccountLedger extends DurableObject<Env> {
  private readonly sql: Sql;
  /** When the one alarm is next due, mirrored in memory to avoid a storage read per write. */
  private alarmAt: number | null = null;
  /** Account id and currency never change once opened, so they are read from storage once. */
  private cachedMeta: Meta | null = null;
  /**
   * Heads of the append-only tables, kept in memory so an append costs no read. A transaction
   * that throws rolls its appends back, so `txn` restores them from before it.
   */
  private heads: { audit: AuditHead | null; transferSeq: number | null } = { audit: null, transferSeq: null };
  /** An audit event was appended since the last export was scheduled (see exportAudit). */
  private auditUnsent = false;
  private opened = false;
  /**
   * Live agent keys by hash, as read from storage. Every write to agent_keys goes through
   * `writeKeys`, which empties it first, so a revoked or frozen key is never served from here.
   */
  private readonly liveKeys = new Map<string, Row>();
  /** Reserves waiting for the next group (see `gathered`). */
  private gathering: (() => void)[] | null = null;

  /**
   * Group commit for reserves: the first reserve to arrive sets a zero-delay timer, the ones that
   * arrive before it fires wait with it, and then all run back to back in one turn, so their
   * writes share one commit instead of one each. Each still runs its own transaction, in arrival
   * order, and answers only after its writes are durable (the output gate). Measured with
   * bench/compare.ts: × 0.79–0.83 CPU per metered call.
   */
  private gathered(): Promise<void> {
    return new Promise((resolve) => {
      if (this.gathering) {
        this.gathering.push(resolve);
        return;
      }
      this.gathering = [resolve];
      setTimeout(() => {
        const group = this.gathering ?? [];
        this.gathering = null;
        for (const go of group) go();
      }, 0);
    });
  }

  /**
   * Every other method waits behind a pending group, so requests still run in the order they
   * arrived (a credit sent before a reserve is applied before it, a read sees the writes sent
   * before it); with no group pending they run at once.
   */
  private inTurn(): Promise<void> | undefined {
    // Not an async function: the caller's own `await` must be the only hop, as it is for
    // `gathered`, or a request would resume a microtask later than the ones queued after it.
    const group = this.gathering;
    return group ? new Promise<void>((go) => group.push(go)) : undefined;
  }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    // An account that was never opened keeps no schema, so a forged key for a made-up
    // account id writes nothing.
    if (this.isOpened()) this.migrate();
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Creates the account's ledger; repeating it with the same values is a no-op. */
  async open(accountId: string, currency: string, actor: Actor = "operator"): Promise<OpenResult> {
    await this.inTurn();
    this.migrate();
    const result = this.txn(() => {
      const existing = this.meta();
      if (existing && (existing.accountId !== accountId || existing.currency !== currency)) return { ok: false, code: "conflict" } as const;
      if (!existing) {
        this.sql.exec("INSERT INTO meta (key, value) VALUES ('account_id', ?), ('currency', ?)", accountId, currency);
        this.cachedMeta = { accountId, currency, frozen: false };
        this.audit({ actor, event: "account_opened", outcome: "ok", reason: currency });
      }
      return { ok: true, account_id: accountId, currency } as const;
    });
    await this.exportAudit();
    return result;
  }

  async balance(): Promise<Balance | null> {
    await this.inTurn();
    return this.meta() ? this.readBalance() : null;
  }

  /** A top-up from outside money (I3: the same idempotency key and body replays the first result). */
  async credit(input: CreditInput, actor: Actor = "operator"): Promise<CreditResult> {
    await this.inTurn();
    const result = this.txn((): CreditResult => {
      if (!this.meta()) return { ok: false, code: "not_found" };
      if (!isAmount(input.amount) || input.amount === 0) return { ok: false, code: "invalid_amount" };
      const key = input.idempotencyKey ? `credit:${input.idempotencyKey}` : null;
      const prior = key ? this.sql.one("SELECT fingerprint, response FROM idempotency WHERE key = ?", key) : null;
      if (prior) {
        if (prior.fingerprint !== input.fingerprint) return { ok: false, code: "idempotency_mismatch" };
        return { ...(JSON.parse(String(prior.response)) as Extract<CreditResult, { ok: true }>), replayed: true };
      }
      const now = Date.now();
      // Credits stay at most 2^53 − 1, so every balance figure (debits and holds never exceed
      // credits) is an exact JSON number; a credit past that is refused, not rounded.
      const added = this.sql.exec("UPDATE balance SET credits = credits + ?1 WHERE id = 1 AND credits + ?1 <= ?2", input.amount, Number.MAX_SAFE_INTEGER);
      if (added.rowsWritten !== 1) return { ok: false, code: "amount_out_of_range" };
      const transfer = this.appendTransfer({ kind: "credit", amount: input.amount, reference: input.reference, now });
      this.audit({ actor, event: "credit", amount: input.amount, outcome: "ok", reason: input.reference }, now);
      const response = { ok: true as const, replayed: false, transfer, balance: this.readBalance() };
      if (key) {
        this.sql.exec("INSERT INTO idempotency (key, fingerprint, response, created_at) VALUES (?, ?, ?, ?)", key, input.fingerprint, JSON.stringify(response), now);
      }
      return response;
    });
    if (result.ok && !result.replayed) await this.scheduleAlarm(exportDue());
    return result;
  }

  /**
   * Key check, mandate check and hold in one transaction (I2, I9): the call is forwarded only if
   * this succeeds, and racing calls see each other's holds.
   */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    await this.gathered();
    return this.reserveNow(input);
  }

  private async reserveNow(input: ReserveInput): Promise<ReserveResult> {
    const now = Date.now();
    const expiresAt = now + input.ttlMs;
    const result = this.txn((): ReserveResult => {
      // The Worker validates amounts; the ledger refuses a bad one anyway (I11), whoever calls it.
      if (!isAmount(input.amount)) return { ok: false, code: "invalid_amount" };
      const meta = this.meta();
      const key = meta && this.liveKey(input.keyHash);
      if (!meta || !key) return { ok: false, code: "invalid_key" };
      const keyId = String(key.id);
      const refuse = (reason: string) =>
        this.audit({ actor: `agent:${keyId}`, event: "hold", agent_key_id: keyId, service_id: input.serviceId, request_id: input.requestId, amount: input.amount, outcome: "refused", reason }, now);
      // The kill switch comes first: a frozen account or key gets nothing, whatever its limits.
      if (meta.frozen || key.frozen_at != null) {
        const code = meta.frozen ? "account_frozen" : "key_frozen";
        refuse(code);
        return { ok: false, code };
      }
      // A price is micro-units of the service's currency: charging it to an account in another one
      // would move the wrong money (2000 µUSD taken as 2000 µJPY). Refused before anything moves.
      if (input.currency !== meta.currency) {
        refuse("currency_mismatch");
        return { ok: false, code: "currency_mismatch", account_currency: meta.currency, service_currency: input.currency };
      }
      if (input.idempotency) {
        const prior = priorCall(this.sql, keyId, input.idempotency, now);
        if (prior) return prior;
      }
      const velocity = limitsOfKey(key);
      const over = velocityCheck(this.sql, keyId, velocity, now, input.amount);
      if (over) {
        refuse(`velocity_${over}`);
        const detail = over === "calls" ? "The key's calls-per-minute limit is reached." : "The key's spend-per-minute limit is reached.";
        return { ok: false, code: "rate_limited", retry_after: retryAfterSeconds(now), detail };
      }
      const mandate = key.mandate_id == null ? null : mandateRow(this.sql, String(key.mandate_id));
      const day = utcDay(now);
      const about = { agent_key_id: keyId, service_id: input.serviceId, request_id: input.requestId, amount: input.amount };
      const onMandate = mandate ? { mandate_id: String(mandate.id), intent_hash: String(mandate.intent_hash) } : {};
      if (mandate) {
        const violation = checkMandate(limitsOf(mandate), { now, serviceSlug: input.serviceSlug ?? "", amount: input.amount }, useOf(this.sql, mandate, day));
        if (violation) {
          this.audit({ actor: `agent:${keyId}`, event: "hold", ...about, ...onMandate, outcome: "refused", reason: violation }, now);
          return { ok: false, code: violation, mandate_id: String(mandate.id), detail: `The key's mandate refuses this call (${violation}).` };
        }
      }
      // The hold's money in one statement: it moves only if the balance covers it (the CHECK on the
      // row would refuse an overdraft anyway), and says what is left.
      const held = this.sql.one(
        "UPDATE balance SET pending = pending + ?1 WHERE id = 1 AND credits - debits - pending >= ?1 RETURNING credits - debits - pending AS available",
        input.amount,
      );
      if (!held) {
        this.audit({ actor: `agent:${keyId}`, event: "hold", ...about, ...onMandate, outcome: "refused", reason: "insufficient_funds" }, now);
        return { ok: false, code: "insufficient_funds", price: input.amount, available: this.readBalance().available, currency: meta.currency };
      }
      const holdId = newId("hold");
      const tags = mergeTags(jsonOrNull<Tags>(mandate?.tags), input.tags ?? {});
      this.sql.exec(
        `INSERT INTO holds (id, request_id, agent_key_id, service_id, provider_id, fee_bps, amount, state, created_at, expires_at, rule, mandate_id, tags)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
        holdId,
        input.requestId,
        keyId,
        input.serviceId,
        input.providerId,
        input.feeBps,
        input.amount,
        now,
        expiresAt,
        input.deferredRule ? JSON.stringify(input.deferredRule) : null,
        mandate ? String(mandate.id) : null,
        Object.keys(tags).length > 0 ? JSON.stringify(tags) : null,
      );
      if (mandate) holdUnder(this.sql, String(mandate.id), day, input.amount);
      countCall(this.sql, keyId, velocity, now, input.amount);
      if (input.idempotency) rememberCall(this.sql, keyId, input.idempotency, holdId, input.requestId, now);
      // A key without a mandate is bounded only by the balance: the trail says so.
      this.audit({ actor: `agent:${keyId}`, event: "hold", ...about, ...onMandate, outcome: "accepted", reason: mandate ? null : "no_mandate" }, now);
      return { ok: true, hold_id: holdId, agent_key_id: keyId, amount: input.amount, available: Number(held.available), currency: meta.currency };
    });
    if (result.ok) await this.scheduleAlarm(expiresAt);
    else await this.exportAudit(); // a refusal is on the trail, and the trail goes to D1 too
    return result;
  }

  /**
   * Captures the Worker queued for this account, then a reserve: one request and one commit
   * where there would be two of each (worker/ledger/settlements.ts). The captures go first, so
   * what they release is available to the reserve.
   */
  async settleThenReserve(settlements: readonly Settlement[], input: ReserveInput): Promise<{ settled: SettlementOutcome[]; reserved: ReserveResult }> {
    await this.gathered();
    const settled = this.settleEach(settlements);
    const reserved = await this.reserveNow(input);
    if (settled.some((s) => s.ok)) await this.scheduleAlarm(exportDue());
    await this.exportAudit();
    return { settled, reserved };
  }

  /** Captures the Worker queued for this account, sent on their own (no reserve came to carry them). */
  async settle(settlements: readonly Settlement[]): Promise<SettlementOutcome[]> {
    await this.inTurn();
    const settled = this.settleEach(settlements);
    if (settled.some((s) => s.ok)) await this.scheduleAlarm(exportDue());
    await this.exportAudit();
    return settled;
  }

  /**
   * Ends an idempotent call's key without a capture (a deferred call, settled later by the
   * provider's report): its response to replay, or null to free the key.
   */
  async keepResponse(holdId: string, response: StoredResponse | null): Promise<void> {
    await this.inTurn();
    if (this.isOpened()) this.txn(() => endCall(this.sql, holdId, response));
  }

  /**
   * Keeps a pending hold alive for `ttlMs` more from now (never shortens it): the Worker calls
   * this while a long response streams, so the hold outlives the response it pays for (I10 then
   * bounds a hold by its last extension: a Worker that dies stops extending it).
   */
  async extendHold(holdId: string, ttlMs: number): Promise<ExtendResult> {
    await this.inTurn();
    if (!this.isOpened()) return { ok: false, code: "unknown_hold" };
    const until = Date.now() + Math.max(0, Math.floor(ttlMs));
    const row = this.sql.one("UPDATE holds SET expires_at = MAX(expires_at, ?) WHERE id = ? AND state = 'pending' RETURNING expires_at", until, holdId);
    if (row) return { ok: true, expires_at: new Date(Number(row.expires_at)).toISOString() };
    const hold = this.readHold(holdId);
    return hold ? { ok: false, code: "hold_not_pending", state: hold.state } : { ok: false, code: "unknown_hold" };
  }

  /** Settles a pending hold for `amount` ≤ the hold; the rest is released (I4). */
  async capture(holdId: string, amount: number, detail: CaptureDetail = {}): Promise<CaptureResult> {
    await this.inTurn();
    const result = this.txn((): CaptureResult => {
      const captured = this.captureNow(holdId, amount, detail);
      return captured.ok ? { ...captured, balance: this.readBalance() } : captured;
    });
    if (result.ok && result.transfer) await this.scheduleAlarm(exportDue());
    await this.exportAudit();
    return result;
  }

  /**
   * The provider's report of what a deferred call used (`POST /v1/usage`): priced by the rule
   * kept on the hold, captured up to the hold. Only the service's provider may report.
   */
  async reportUsage(requestId: string, providerId: string, units: number): Promise<UsageReportResult> {
    await this.inTurn();
    const result = this.txn((): UsageReportResult => {
      const row = this.isOpened() ? this.sql.one("SELECT * FROM holds WHERE request_id = ?", requestId) : null;
      if (!row || row.provider_id !== providerId) return { ok: false, code: "unknown_request" };
      if (row.rule == null) return { ok: false, code: "not_deferred" };
      const hold = toHold(row);
      if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
      const { amount, shortfall } = settlement(JSON.parse(String(row.rule)) as PriceRule, { units }, hold.amount);
      const detail = { usage: { units }, shortfall, reason: "usage_reported" };
      const captured = this.captureNow(hold.id, amount, detail, `provider:${providerId}`);
      if (!captured.ok) throw new Error(`capture of a pending hold failed: ${captured.code}`);
      return { ok: true, hold: captured.hold, transfer: captured.transfer };
    });
    if (result.ok && result.transfer) await this.scheduleAlarm(exportDue());
    return result;
  }

  /** Releases a pending hold without charge (the origin failed, or the call never happened). */
  async void(holdId: string, reason: string): Promise<VoidResult> {
    await this.inTurn();
    const result = this.txn((): VoidResult => {
      const hold = this.readHold(holdId);
      if (!hold) return { ok: false, code: "unknown_hold" };
      if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
      const ended = this.endHold(hold, "voided", reason, Date.now(), `agent:${hold.agent_key_id}`);
      return { ok: true, hold: ended, balance: this.readBalance() };
    });
    await this.exportAudit();
    return result;
  }

  async hold(holdId: string): Promise<Hold | null> {
    await this.inTurn();
    return this.isOpened() ? this.readHold(holdId) : null;
  }

  /** The journal, newest first; `cursor` is the seq to continue below. */
  async transfers(limit: number, cursor: number | null): Promise<Page<Transfer>> {
    await this.inTurn();
    const meta = this.meta();
    if (!meta) return { data: [], next_cursor: null };
    const rows = this.sql.all("SELECT * FROM transfers WHERE seq < ? ORDER BY seq DESC LIMIT ?", cursor ?? Number.MAX_SAFE_INTEGER, limit + 1);
    const data = rows.slice(0, limit).map((r) => toTransfer(r, meta.currency));
    return { data, next_cursor: rows.length > limit ? String(data[data.length - 1]?.seq) : null };
  }

  /** Issues a key, bound to a live mandate of this account when `mandateId` is given. */
  async createAgentKey(
    id: string,
    name: string,
    keyHash: string,
    mandateId: string | null = null,
    actor: Actor = "owner",
    limits: KeyLimits = { max_calls_per_minute: null, max_spend_per_minute: null },
  ): Promise<{ ok: true; key: AgentKey } | Failure<"not_found" | "mandate_not_found" | "mandate_revoked">> {
    await this.inTurn();
    if (!this.meta()) return { ok: false, code: "not_found" };
    const result = this.txn(() => {
      const now = Date.now();
      const mandate = mandateId ? mandateRow(this.sql, mandateId) : null;
      if (mandateId && !mandate) return { ok: false, code: "mandate_not_found" } as const;
      if (mandate && mandate.revoked_at != null) return { ok: false, code: "mandate_revoked" } as const;
      this.writeKeys(
        "INSERT INTO agent_keys (id, name, key_hash, created_at, mandate_id, max_calls_per_minute, max_spend_per_minute) VALUES (?, ?, ?, ?, ?, ?, ?)",
        id,
        name,
        keyHash,
        now,
        mandateId,
        limits.max_calls_per_minute,
        limits.max_spend_per_minute,
      );
      this.audit({ actor, event: "key_created", agent_key_id: id, mandate_id: mandateId, intent_hash: mandate ? String(mandate.intent_hash) : null, outcome: "ok", reason: mandate ? null : "no_mandate" }, now);
      return { ok: true, key: toAgentKey(this.sql.one("SELECT * FROM agent_keys WHERE id = ?", id) ?? {}) } as const;
    });
    await this.exportAudit();
    return result;
  }

  /** Revokes a key; the next reserve with it fails. Returns null for a key this account lacks. */
  async revokeAgentKey(id: string, actor: Actor = "owner"): Promise<AgentKey | null> {
    await this.inTurn();
    if (!this.meta()) return null;
    const result = this.txn(() => {
      const now = Date.now();
      const revoked = this.writeKeys("UPDATE agent_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id).rowsWritten;
      if (revoked === 1) this.audit({ actor, event: "key_revoked", agent_key_id: id, outcome: "ok" }, now);
      const row = this.sql.one("SELECT * FROM agent_keys WHERE id = ?", id);
      return row ? toAgentKey(row) : null;
    });
    await this.exportAudit();
    return result;
  }

  /** Changes a key's velocity limits (null lifts a limit); effective on its next call. */
  async setKeyLimits(id: string, limits: Partial<KeyLimits>, actor: Actor = "owner"): Promise<AgentKey | null> {
    await this.inTurn();
    if (!this.meta()) return null;
    const result = this.txn(() => {
      if (!this.sql.one("SELECT 1 AS x FROM agent_keys WHERE id = ?", id)) return null;
      for (const column of ["max_calls_per_minute", "max_spend_per_minute"] as const) {
        const value = limits[column];
        if (value !== undefined) this.writeKeys(`UPDATE agent_keys SET ${column} = ? WHERE id = ?`, value, id);
      }
      this.audit({ actor, event: "key_limits_set", agent_key_id: id, outcome: "ok", reason: JSON.stringify(limits) });
      return toAgentKey(this.sql.one("SELECT * FROM agent_keys WHERE id = ?", id) ?? {});
    });
    await this.exportAudit();
    return result;
  }

  /** The operator's kill switch for one key: refused at once while frozen. */
  async freezeKey(id: string, frozen: boolean, actor: Actor = "operator"): Promise<AgentKey | null> {
    await this.inTurn();
    if (!this.meta()) return null;
    const result = this.txn(() => {
      const now = Date.now();
      const changed = this.writeKeys(
        frozen ? "UPDATE agent_keys SET frozen_at = ? WHERE id = ? AND frozen_at IS NULL" : "UPDATE agent_keys SET frozen_at = NULL WHERE id = ? AND frozen_at IS NOT NULL",
        ...(frozen ? [now, id] : [id]),
      ).rowsWritten;
      if (changed === 1) this.audit({ actor, event: frozen ? "key_frozen" : "key_unfrozen", agent_key_id: id, outcome: "ok" }, now);
      const row = this.sql.one("SELECT * FROM agent_keys WHERE id = ?", id);
      return row ? toAgentKey(row) : null;
    });
    await this.exportAudit();
    return result;
  }

  /** The operator's kill switch for the whole account: every call refused while frozen. */
  async freezeAccount(frozen: boolean, actor: Actor = "operator"): Promise<{ frozen: boolean } | null> {
    await this.inTurn();
    const meta = this.meta();
    if (!meta) return null;
    const result = this.txn(() => {
      if (meta.frozen !== frozen) {
        this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('frozen', ?)", frozen ? "1" : "0");
        this.audit({ actor, event: frozen ? "account_frozen" : "account_unfrozen", outcome: "ok" });
      }
      this.cachedMeta = { ...meta, frozen };
      return { frozen };
    });
    await this.exportAudit();
    return result;
  }

  async agentKeys(limit: number, cursor: string | null): Promise<Page<AgentKey>> {
    await this.inTurn();
    if (!this.meta()) return { data: [], next_cursor: null };
    const rows = this.sql.all("SELECT * FROM agent_keys WHERE id > ? ORDER BY id LIMIT ?", cursor ?? "", limit + 1);
    const data = rows.slice(0, limit).map(toAgentKey);
    return { data, next_cursor: rows.length > limit ? (data[data.length - 1]?.id ?? null) : null };
  }

  /** What an agent key may see of itself: its account, its key, its mandate and the balance. */
  async agent(keyHash: string): Promise<AgentView> {
    await this.inTurn();
    const meta = this.meta();
    const row = meta && this.liveKey(keyHash);
    if (!meta || !row) return { ok: false, code: "invalid_key" };
    const mandate = row.mandate_id == null ? null : mandateRow(this.sql, String(row.mandate_id));
    return { ok: true, account_id: meta.accountId, key: toAgentKey(row), balance: this.readBalance(), mandate: mandate ? toMandate(mandate) : null };
  }

  /** Records a user's spending authority; its terms never change afterwards. */
  async createMandate(input: MandateInput, actor: Actor = "owner"): Promise<Mandate | null> {
    await this.inTurn();
    if (!this.meta()) return null;
    const result = this.txn(() => {
      const id = newId("mnd");
      const now = Date.now();
      const intentHash = sha256Hex(input.intent);
      insertMandate(this.sql, id, input, intentHash, now);
      this.audit({ actor, event: "mandate_created", mandate_id: id, intent_hash: intentHash, amount: input.max_total, outcome: "ok" }, now);
      return toMandate(mandateRow(this.sql, id) ?? {});
    });
    await this.exportAudit();
    return result;
  }

  /** Revokes a mandate, effective on the next call of any key bound to it. */
  async revokeMandate(id: string, actor: Actor = "owner"): Promise<Mandate | null> {
    await this.inTurn();
    if (!this.meta()) return null;
    const result = this.txn(() => {
      const now = Date.now();
      const row = mandateRow(this.sql, id);
      if (!row) return null;
      if (row.revoked_at == null) {
        this.sql.exec("UPDATE mandates SET revoked_at = ? WHERE id = ?", now, id);
        this.audit({ actor, event: "mandate_revoked", mandate_id: id, intent_hash: String(row.intent_hash), outcome: "ok" }, now);
      }
      return toMandate(mandateRow(this.sql, id) ?? {});
    });
    await this.exportAudit();
    return result;
  }

  async mandates(limit: number, cursor: string | null): Promise<Page<Mandate>> {
    await this.inTurn();
    if (!this.meta()) return { data: [], next_cursor: null };
    const rows = this.sql.all("SELECT * FROM mandates WHERE id > ? ORDER BY id LIMIT ?", cursor ?? "", limit + 1);
    const data = rows.slice(0, limit).map(toMandate);
    return { data, next_cursor: rows.length > limit ? (data[data.length - 1]?.id ?? null) : null };
  }

  async mandate(id: string): Promise<Mandate | null> {
    await this.inTurn();
    const row = this.meta() ? mandateRow(this.sql, id) : null;
    return row ? toMandate(row) : null;
  }

  /** The audit trail, newest first; `cursor` is the seq to continue below. */
  async auditEvents(limit: number, cursor: number | null): Promise<Page<AuditEvent>> {
    await this.inTurn();
    const meta = this.meta();
    if (!meta) return { data: [], next_cursor: null };
    const rows = this.sql.all("SELECT * FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?", cursor ?? Number.MAX_SAFE_INTEGER, limit + 1);
    const data = rows.slice(0, limit).map((r) => toAuditEvent(r, meta.accountId));
    return { data, next_cursor: rows.length > limit ? String(data[data.length - 1]?.seq) : null };
  }

  /** The chain's head and how much of it has reached D1 (for verification against D1). */
  async auditHead(): Promise<{ seq: number; hash: string | null; exported_seq: number } | null> {
    await this.inTurn();
    if (!this.meta()) return null;
    const head = this.sql.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    const exported = this.sql.one("SELECT audit_exported_seq AS s FROM export_state WHERE id = 1");
    return { seq: Number(head?.seq ?? 0), hash: head ? String(head.hash) : null, exported_seq: Number(exported?.s ?? 0) };
  }

  /** How far the journal has reached D1 (for the reconciler, I7): rows after `exported_seq` are not yet exported. */
  async exportCursor(): Promise<{ exported_seq: number; journal_seq: number } | null> {
    await this.inTurn();
    if (!this.meta()) return null;
    const row = this.sql.one("SELECT exported_seq AS e, (SELECT COALESCE(MAX(seq), 0) FROM transfers) AS j FROM export_state WHERE id = 1");
    return { exported_seq: Number(row?.e ?? 0), journal_seq: Number(row?.j ?? 0) };
  }

  /** The one alarm: expire overdue holds (I10), export journal and audit (I7), schedule the next run. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.meta()) return;
    this.expireHolds(Date.now());
    pruneCallKeys(this.sql, Date.now());
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

  /** Sends everything after the export cursors to D1, a page at a time, moving the cursors after each. */
  private async exportToD1(): Promise<void> {
    const meta = this.meta();
    if (!meta) return;
    for (;;) {
      const page = this.sql.one(outboxPageSql, meta.currency, EXPORT_BATCH);
      // At-least-once: if we die after D1 commits but before the cursors move, the next run
      // sends the same rows and D1's ON CONFLICT DO NOTHING on (account, seq) drops them.
      const sent = await exportPage(this.env.DB, meta.accountId, { transfers: String(page?.transfers ?? "[]"), audit: String(page?.audit ?? "[]") });
      if (sent.transfers === 0 && sent.audit === 0) return;
      this.sql.exec(
        "UPDATE export_state SET exported_seq = MAX(exported_seq, COALESCE(?, 0)), audit_exported_seq = MAX(audit_exported_seq, COALESCE(?, 0)) WHERE id = 1",
        sent.lastSeq,
        sent.lastAuditSeq,
      );
      if (sent.transfers < EXPORT_BATCH && sent.audit < EXPORT_BATCH) return;
    }
  }

  private expireHolds(now: number): void {
    this.txn(() => {
      for (const row of this.sql.all("SELECT * FROM holds WHERE state = 'pending' AND expires_at <= ?", now)) {
        this.endHold(toHold(row), "expired", "hold_timeout", now, "system");
      }
    });
  }

  /** Each capture in its own transaction: one that is refused does not undo the others. */
  private settleEach(settlements: readonly Settlement[]): SettlementOutcome[] {
    return settlements.map(({ holdId, amount, detail, keep }): SettlementOutcome => {
      const result = this.txn(() => {
        const captured = this.captureNow(holdId, amount, detail);
        // The key's final state lands with the capture: never captured yet unreplayable (stuck).
        if (captured.ok && keep !== undefined) endCall(this.sql, holdId, keep);
        return captured;
      });
      if (result.ok || (result.code === "hold_not_pending" && result.state === "captured")) return { hold_id: holdId, ok: true };
      return { hold_id: holdId, ok: false, code: result.code };
    });
  }

  private captureNow(holdId: string, amount: number, detail: CaptureDetail, actor?: Actor): Captured {
    const now = Date.now();
    const reason = detail.reason ?? "origin_succeeded";
    // One statement on the common path: the hold ends here only if it is pending and covers the
    // amount; otherwise nothing changed and the hold says why.
    const row = isAmount(amount)
      ? this.sql.one(
          "UPDATE holds SET state = 'captured', captured = ?1, reason = ?2, resolved_at = ?3 WHERE id = ?4 AND state = 'pending' AND amount >= ?1 RETURNING *",
          amount,
          reason,
          now,
          holdId,
        )
      : null;
    if (!row) {
      const why = this.whyNotCaptured(holdId, amount);
      if (why.code === "hold_not_pending" && why.state === "expired") this.noteUncollected(holdId, amount, now);
      return why;
    }
    const hold = toHold(row);
    this.afterEnd(hold, "captured", amount, reason, now, actor ?? `agent:${hold.agent_key_id}`);
    const transfer =
      amount > 0 ? this.appendTransfer({ kind: "capture", amount, fee: platformFee(amount, hold.fee_bps), hold, now, detail: { ...detail, reason } }) : null;
    return { ok: true, hold, transfer };
  }

  /**
   * A capture that came after its hold expired charges nothing (the hold ended once, I4), but it
   * is not silent: the hold records what it would have charged, once however often the capture
   * is resent, and the audit trail (exported to D1) tells the provider which call went unpaid.
   */
  private noteUncollected(holdId: string, amount: number, now: number): void {
    if (!isAmount(amount) || amount === 0) return;
    const row = this.sql.one("UPDATE holds SET uncollected = ? WHERE id = ? AND uncollected IS NULL RETURNING *", amount, holdId);
    if (!row) return;
    const hold = toHold(row);
    this.audit(
      {
        actor: "system",
        event: "uncollected",
        agent_key_id: hold.agent_key_id,
        mandate_id: hold.mandate_id,
        service_id: hold.service_id,
        request_id: hold.request_id,
        amount,
        outcome: "refused",
        reason: "hold_expired",
      },
      now,
    );
  }

  private whyNotCaptured(holdId: string, amount: number): Exclude<CaptureResult, { ok: true }> {
    const hold = this.readHold(holdId);
    if (!hold) return { ok: false, code: "unknown_hold" };
    if (hold.state !== "pending") return { ok: false, code: "hold_not_pending", state: hold.state };
    if (!isAmount(amount)) return { ok: false, code: "invalid_amount" };
    return { ok: false, code: "amount_exceeds_hold" };
  }

  /**
   * The one way out of `pending` (I4): a guarded UPDATE that can succeed once per hold (capture's
   * is its own, with the amount in the guard), with the balance, the mandate's counters and the
   * audit trail moved in the same transaction (afterEnd).
   */
  private endHold(hold: Hold, state: "voided" | "expired", reason: string, now: number, actor: Actor): Hold {
    const ended = this.sql.exec("UPDATE holds SET state = ?, reason = ?, resolved_at = ? WHERE id = ? AND state = 'pending'", state, reason, now, hold.id);
    if (ended.rowsWritten !== 1) throw new Error(`hold ${hold.id} is no longer pending`);
    const after = { ...hold, state, captured: null, reason, resolved_at: new Date(now).toISOString() };
    this.afterEnd(after, state, null, reason, now, actor);
    return after;
  }

  private afterEnd(hold: Hold, state: Exclude<Hold["state"], "pending">, captured: number | null, reason: string, now: number, actor: Actor): void {
    this.sql.exec("UPDATE balance SET pending = pending - ?, debits = debits + ? WHERE id = 1", hold.amount, captured ?? 0);
    if (hold.mandate_id) settleUnder(this.sql, hold.mandate_id, utcDay(Date.parse(hold.created_at)), hold.amount, captured ?? 0);
    const intent = hold.mandate_id ? mandateRow(this.sql, hold.mandate_id)?.intent_hash : null;
    this.audit(
      {
        actor,
        event: state === "captured" ? "capture" : state === "voided" ? "void" : "expiry",
        agent_key_id: hold.agent_key_id,
        mandate_id: hold.mandate_id,
        intent_hash: intent == null ? null : String(intent),
        service_id: hold.service_id,
        request_id: hold.request_id,
        amount: captured ?? hold.amount,
        outcome: state,
        reason,
      },
      now,
    );
  }

  private appendTransfer(t: { kind: Transfer["kind"]; amount: number; fee?: number; reference?: string | null; hold?: Hold; now: number; detail?: CaptureDetail }): Transfer {
    const seq = (this.heads.transferSeq ?? Number(this.sql.one("SELECT COALESCE(MAX(seq), 0) AS seq FROM transfers")?.seq)) + 1;
    const transfer: Transfer = {
      id: newId("tr"),
      seq,
      kind: t.kind,
      amount: t.amount,
      fee: t.fee ?? 0,
      currency: this.meta()?.currency ?? "",
      hold_id: t.hold?.id ?? null,
      request_id: t.hold?.request_id ?? null,
      service_id: t.hold?.service_id ?? null,
      provider_id: t.hold?.provider_id ?? null,
      agent_key_id: t.hold?.agent_key_id ?? null,
      mandate_id: t.hold?.mandate_id ?? null,
      tags: t.hold?.tags ?? null,
      reference: t.reference ?? null,
      usage: t.detail?.usage ?? null,
      shortfall: t.detail?.shortfall ?? 0,
      reason: t.detail?.reason ?? null,
      created_at: new Date(t.now).toISOString(),
    };
    this.sql.exec(
      `INSERT INTO transfers (seq, id, kind, amount, fee, hold_id, request_id, service_id, provider_id, agent_key_id, reference, created_at,
         usage, shortfall, reason, mandate_id, tags)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      seq,
      transfer.id,
      transfer.kind,
      transfer.amount,
      transfer.fee,
      transfer.hold_id,
      transfer.request_id,
      transfer.service_id,
      transfer.provider_id,
      transfer.agent_key_id,
      transfer.reference,
      t.now,
      transfer.usage ? JSON.stringify(transfer.usage) : null,
      transfer.shortfall,
      transfer.reason,
      transfer.mandate_id,
      transfer.tags ? JSON.stringify(transfer.tags) : null,
    );
    this.heads.transferSeq = seq;
    return transfer;
  }

  /** `transactionSync`, restoring the in-memory heads if it rolls back. */
  private txn<T>(fn: () => T): T {
    const saved = { ...this.heads };
    try {
      return this.ctx.storage.transactionSync(fn);
    } catch (err) {
      this.heads = saved;
      throw err;
    }
  }

  private audit(entry: AuditEntry, now = Date.now()): void {
    this.heads.audit = appendAudit(this.sql, this.meta()?.accountId ?? "", this.heads.audit ?? readAuditHead(this.sql), entry, now);
    this.auditUnsent = true;
  }

  /**
   * Events that move no money (keys, mandates, refusals, voids) schedule no export of their own;
   * without this they would reach D1 only with the account's next money movement, or never.
   */
  private async exportAudit(): Promise<void> {
    if (!this.auditUnsent) return;
    this.auditUnsent = false;
    await this.scheduleAlarm(exportDue());
  }

  private async scheduleAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** The next thing the alarm must do on time: expire a hold, or forget an idempotency key. */
  private nextExpiry(): number | null {
    const row = this.sql.one("SELECT MIN(expires_at) AS at FROM holds WHERE state = 'pending'");
    const dues = [row?.at == null ? null : Number(row.at), nextCallKeyExpiry(this.sql)].filter((at): at is number => at !== null);
    return dues.length > 0 ? Math.min(...dues) : null;
  }

  /** A live (unrevoked) key by its hash, from memory after the first read. */
  private liveKey(keyHash: string): Row | null {
    const cached = this.liveKeys.get(keyHash);
    if (cached) return cached;
    const row = this.sql.one("SELECT * FROM agent_keys WHERE key_hash = ? AND revoked_at IS NULL", keyHash);
    // Only keys that exist are kept (a flood of made-up keys costs reads, never memory).
    if (row) this.liveKeys.set(keyHash, row);
    return row;
  }

  /** The one way to write agent_keys: the cache of live keys is emptied before the write. */
  private writeKeys(query: string, ...params: SqlStorageValue[]): SqlStorageCursor<Row> {
    this.liveKeys.clear();
    return this.sql.exec(query, ...params);
  }

  private readBalance(): Balance {
    // Differences taken in SQLite's exact 64-bit integers, not as rounded JavaScript numbers.
    const row = this.sql.one("SELECT credits - debits AS posted, pending, credits - debits - pending AS available FROM balance WHERE id = 1") ?? {};
    return { currency: this.meta()?.currency ?? "", posted: Number(row.posted), pending: Number(row.pending), available: Number(row.available) };
  }

  private readHold(id: string): Hold | null {
    const row = this.sql.one("SELECT * FROM holds WHERE id = ?", id);
    return row ? toHold(row) : null;
  }

  private meta(): Meta | null {
    if (this.cachedMeta) return this.cachedMeta;
    if (!this.isOpened()) return null;
    const rows = this.sql.all("SELECT key, value FROM meta WHERE key IN ('account_id', 'currency', 'frozen')");
    const get = (k: string) => rows.find((r) => r.key === k)?.value;
    const [accountId, currency] = [get("account_id"), get("currency")];
    this.cachedMeta = accountId && currency ? { accountId: String(accountId), currency: String(currency), frozen: get("frozen") === "1" } : null;
    return this.cachedMeta;
  }

  private isOpened(): boolean {
    this.opened ||= this.sql.one("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'meta'") !== null;
    return this.opened;
  }

  /** Brings the schema to the newest version; each step in its own transaction. */
  private migrate(): void {
    let version = this.isOpened() ? Number(this.sql.one("SELECT value FROM meta WHERE key = 'schema_version'")?.value ?? 0) : 0;
    while (version < MIGRATIONS.length) {
      const step = MIGRATIONS[version] as string;
      const next = version + 1;
      this.txn(() => {
        this.sql.exec(step);
        this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", String(next));
      });
      version = next;
    }
    this.opened = true;
  }
}

/** When an export scheduled now should run (see EXPORT_DELAY_MS). */
function exportDue(): number {
  return Date.now() + EXPORT_DELAY_MS + Math.floor(Math.random() * EXPORT_JITTER_MS);
}

/** A well-formed amount at the ledger's boundary: a non-negative integer below 2^53 (I11). */
function isAmount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}
