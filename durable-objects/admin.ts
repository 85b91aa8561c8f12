import { sha256Hex } from "../core/audit-chain";
import { newId } from "../core/ids";
import type { Journal } from "./journal";
import { insertMandate, mandateRow } from "./mandates";
import { toAgentKey, toMandate } from "./rows";
import type { Outbox } from "./outbox";
import type { Row } from "./sql";
import type { Turns } from "./turns";
import type { Actor, CreateKeyInput, CreateKeyResult, KeyLimits, KeyResult, MandateInput, MandateResult, NotFound, OpenInput, OpenResult } from "./types";

/**
 * Live agent keys by hash, as read from storage. Every write to agent_keys goes through
 * `write`, which empties the cache first, so a revoked or frozen key is never served from here.
 */
export class LiveKeys {
  private readonly byHash = new Map<string, Row>();

  constructor(private readonly journal: Journal) {}

  /** A live (unrevoked) key by its hash, from memory after the first read. */
  get(keyHash: string): Row | null {
    const cached = this.byHash.get(keyHash);
    if (cached) return cached;
    const row = this.journal.sql.one("SELECT * FROM agent_keys WHERE key_hash = ? AND revoked_at IS NULL", keyHash);
    // Only keys that exist are kept (a flood of made-up keys costs reads, never memory).
    if (row) this.byHash.set(keyHash, row);
    return row;
  }

  /** The one way to write agent_keys: the cache of live keys is emptied before the write. */
  write(query: string, ...params: SqlStorageValue[]): SqlStorageCursor<Row> {
    this.byHash.clear();
    return this.journal.sql.exec(query, ...params);
  }
}

/** The account's administration: opening it, its agent keys, its mandates and its kill switches. */
export class Admin {
  constructor(
    private readonly journal: Journal,
    private readonly turns: Turns,
    private readonly outbox: Outbox,
    private readonly keys: LiveKeys,
  ) {}

  private get sql() {
    return this.journal.sql;
  }

  /** Creates the account's ledger; repeating it with the same values is a no-op. */
  async open({ accountId, currency, actor }: OpenInput): Promise<OpenResult> {
    await this.turns.inTurn();
    this.journal.migrate();
    // Not `mutate`: the account is not opened yet, which is the point.
    const result = this.journal.txn((): OpenResult => {
      const existing = this.journal.meta();
      if (existing && (existing.accountId !== accountId || existing.currency !== currency)) return { ok: false, code: "conflict" };
      if (!existing) {
        this.sql.exec("INSERT INTO meta (key, value) VALUES ('account_id', ?), ('currency', ?)", accountId, currency);
        this.journal.setMeta({ accountId, currency, frozen: false });
        this.journal.audit({ actor, event: "account_opened", outcome: "ok", reason: currency });
      }
      return { ok: true, account_id: accountId, currency };
    });
    await this.outbox.exportAudit();
    return result;
  }

  /** Issues a key, bound to a live mandate of this account when `mandateId` is given. */
  createAgentKey({ id, name, keyHash, mandateId = null, limits = NO_LIMITS, actor }: CreateKeyInput): Promise<CreateKeyResult> {
    return this.turns.mutate(actor, (log): CreateKeyResult => {
      const now = Date.now();
      const mandate = mandateId ? mandateRow(this.sql, mandateId) : null;
      if (mandateId && !mandate) return { ok: false, code: "mandate_not_found" };
      if (mandate && mandate.revoked_at != null) return { ok: false, code: "mandate_revoked" };
      this.keys.write(
        "INSERT INTO agent_keys (id, name, key_hash, created_at, mandate_id, max_calls_per_minute, max_spend_per_minute) VALUES (?, ?, ?, ?, ?, ?, ?)",
        id,
        name,
        keyHash,
        now,
        mandateId,
        limits.max_calls_per_minute,
        limits.max_spend_per_minute,
      );
      log(
        {
          event: "key_created",
          agent_key_id: id,
          mandate_id: mandateId,
          intent_hash: mandate ? String(mandate.intent_hash) : null,
          outcome: "ok",
          reason: mandate ? null : "no_mandate",
        },
        now,
      );
      return { ok: true, key: toAgentKey(this.sql.one("SELECT * FROM agent_keys WHERE id = ?", id) ?? {}) };
    });
  }

  /** Revokes a key; the next reserve with it fails. */
  revokeAgentKey({ id, actor }: { id: string; actor: Actor }): Promise<KeyResult> {
    return this.turns.mutate(actor, (log) => {
      const now = Date.now();
      const revoked = this.keys.write("UPDATE agent_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id).rowsWritten;
      if (revoked === 1) log({ event: "key_revoked", agent_key_id: id, outcome: "ok" }, now);
      return this.keyResult(id);
    });
  }

  /** Changes a key's velocity limits (null lifts a limit); effective on its next call. */
  setKeyLimits({ id, limits, actor }: { id: string; limits: Partial<KeyLimits>; actor: Actor }): Promise<KeyResult> {
    return this.turns.mutate(actor, (log): KeyResult => {
      if (!this.sql.one("SELECT 1 AS x FROM agent_keys WHERE id = ?", id)) return NOT_FOUND;
      for (const column of ["max_calls_per_minute", "max_spend_per_minute"] as const) {
        const value = limits[column];
        if (value !== undefined) this.keys.write(`UPDATE agent_keys SET ${column} = ? WHERE id = ?`, value, id);
      }
      log({ event: "key_limits_set", agent_key_id: id, outcome: "ok", reason: JSON.stringify(limits) });
      return this.keyResult(id);
    });
  }

  /** The operator's kill switch for one key: refused at once while frozen. */
  freezeKey({ id, frozen, actor }: { id: string; frozen: boolean; actor: Actor }): Promise<KeyResult> {
    return this.turns.mutate(actor, (log) => {
      const now = Date.now();
      const changed = this.keys.write(
        frozen
          ? "UPDATE agent_keys SET frozen_at = ? WHERE id = ? AND frozen_at IS NULL"
          : "UPDATE agent_keys SET frozen_at = NULL WHERE id = ? AND frozen_at IS NOT NULL",
        ...(frozen ? [now, id] : [id]),
      ).rowsWritten;
      if (changed === 1) log({ event: frozen ? "key_frozen" : "key_unfrozen", agent_key_id: id, outcome: "ok" }, now);
      return this.keyResult(id);
    });
  }

  /** The operator's kill switch for the whole account: every call refused while frozen. */
  freezeAccount({ frozen, actor }: { frozen: boolean; actor: Actor }): Promise<{ ok: true; frozen: boolean } | NotFound> {
    return this.turns.mutate(actor, (log, meta) => {
      if (meta.frozen !== frozen) {
        this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('frozen', ?)", frozen ? "1" : "0");
        log({ event: frozen ? "account_frozen" : "account_unfrozen", outcome: "ok" });
      }
      this.journal.setMeta({ ...meta, frozen });
      return { ok: true, frozen } as const;
    });
  }

  /** Records a user's spending authority; its terms never change afterwards. */
  createMandate({ mandate, actor }: { mandate: MandateInput; actor: Actor }): Promise<MandateResult> {
    return this.turns.mutate(actor, (log) => {
      const id = newId("mnd");
      const now = Date.now();
      const intentHash = sha256Hex(mandate.intent);
      insertMandate(this.sql, id, mandate, intentHash, now);
      log({ event: "mandate_created", mandate_id: id, intent_hash: intentHash, amount: mandate.max_total, outcome: "ok" }, now);
      return { ok: true, mandate: toMandate(mandateRow(this.sql, id) ?? {}) } as const;
    });
  }

  /** Revokes a mandate, effective on the next call of any key bound to it. */
  revokeMandate({ id, actor }: { id: string; actor: Actor }): Promise<MandateResult> {
    return this.turns.mutate(actor, (log): MandateResult => {
      const now = Date.now();
      const row = mandateRow(this.sql, id);
      if (!row) return NOT_FOUND;
      if (row.revoked_at == null) {
        this.sql.exec("UPDATE mandates SET revoked_at = ? WHERE id = ?", now, id);
        log({ event: "mandate_revoked", mandate_id: id, intent_hash: String(row.intent_hash), outcome: "ok" }, now);
      }
      return { ok: true, mandate: toMandate(mandateRow(this.sql, id) ?? {}) };
    });
  }

  private keyResult(id: string): KeyResult {
    const row = this.sql.one("SELECT * FROM agent_keys WHERE id = ?", id);
    return row ? { ok: true, key: toAgentKey(row) } : NOT_FOUND;
  }
}

const NO_LIMITS: KeyLimits = { max_calls_per_minute: null, max_spend_per_minute: null };
const NOT_FOUND: NotFound = { ok: false, code: "not_found" };
