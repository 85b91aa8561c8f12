import type { LiveKeys } from "./admin";
import type { Journal } from "./journal";
import type { KeyCopy, LeaseState, ShardConfig, ShardReport } from "./shard-types";

/** Most journal rows one report carries; the rest go with the next. */
const REPORT_ROWS = 200;

/**
 * A shard's lease, in its own SQLite (the same schema as a ledger's): its `balance` row is the
 * lease — `credits` all the parent ever granted it (a cumulative figure, so a grant answered
 * twice counts once), `debits` what it captured plus what it handed back, `pending` its holds —
 * so the reserve and capture code of an account serves it unchanged, and the CHECK on the row
 * keeps the shard within its lease. Its journal (captures and their refunds, gapless seq) goes to
 * the parent, its export cursor being what the parent has rolled in. What it has handed back in
 * all is `meta.lease_returned`.
 */
export class ShardLease {
  /** Which shard this is, once opened by its parent. */
  index = 0;
  shards = 1;
  version = 0;
  /** A recall or a switch took the lease back: what holds release goes straight back too. */
  drained = false;
  /** Key hashes only the parent serves (a mandate or velocity limits), until the next switch. */
  readonly restricted = new Set<string>();
  /** Key hashes the parent does not know as live keys, until the next switch (a key created, revoked…). */
  readonly missing = new Set<string>();

  constructor(
    private readonly journal: Journal,
    private readonly keys: LiveKeys,
  ) {}

  private get sql() {
    return this.journal.sql;
  }

  load(): void {
    if (!this.journal.meta()) return;
    const rows = this.sql.all("SELECT key, value FROM meta WHERE key IN ('shard_index', 'shard_count', 'config_version', 'lease_drained')");
    const get = (k: string) => rows.find((r) => r.key === k)?.value;
    this.index = Number(get("shard_index") ?? 0);
    this.shards = Number(get("shard_count") ?? 1);
    this.version = Number(get("config_version") ?? 0);
    this.drained = get("lease_drained") === "1";
  }

  /** Open and serving: the parent opened it and the account has at least this many shards. */
  get serving(): boolean {
    return this.index > 0 && this.index <= this.shards && this.shards > 1 && !(this.journal.meta()?.frozen ?? true);
  }

  available(): number {
    return this.journal.readBalance().available;
  }

  /** The parent's configuration (inside a transaction): identity once, then the switches. */
  configure(c: ShardConfig): void {
    if (!this.journal.meta()) {
      this.sql.exec("INSERT INTO meta (key, value) VALUES ('account_id', ?), ('currency', ?), ('shard_index', ?)", c.accountId, c.currency, String(c.index));
      this.journal.setMeta({ accountId: c.accountId, currency: c.currency, frozen: false });
      this.index = c.index;
    }
    this.applyState(c, true);
    if (!this.serving) this.handBack();
  }

  /**
   * The parent's figures (inside a transaction): the lease grows to what was granted, the export
   * cursor to what was rolled in; a newer version of the switches forgets every copied key.
   */
  applyState(s: LeaseState, fromConfig = false): void {
    const meta = this.journal.meta();
    if (!meta) return;
    // A new grant is money to spend again: the shard is no longer drained.
    const grown = this.sql.exec("UPDATE balance SET credits = ?1 WHERE id = 1 AND credits < ?1", s.granted).rowsWritten > 0;
    if (grown) this.drained = false;
    this.sql.exec("UPDATE export_state SET exported_seq = MAX(exported_seq, ?) WHERE id = 1", s.rolledSeq);
    if (s.version > this.version || fromConfig) {
      this.keys.write("DELETE FROM agent_keys");
      this.restricted.clear();
      this.missing.clear();
      this.version = Math.max(this.version, s.version);
    }
    if (s.frozen !== meta.frozen) this.journal.setMeta({ ...meta, frozen: s.frozen });
    this.shards = s.shards;
    this.sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('shard_count', ?), ('config_version', ?), ('frozen', ?), ('lease_drained', ?)",
      String(this.shards),
      String(this.version),
      s.frozen ? "1" : "0",
      this.drained ? "1" : "0",
    );
  }

  /** Hands back everything not held (inside a transaction): the shard can no longer spend it. */
  handBack(drain = true): void {
    const free = this.available();
    if (free > 0) {
      this.sql.exec("UPDATE balance SET debits = debits + ? WHERE id = 1", free);
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES ('lease_returned', ?) ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + ?",
        String(free),
        free,
      );
    }
    if (drain && !this.drained) {
      this.drained = true;
      this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('lease_drained', '1')");
    }
  }

  /** A key copied from the parent (inside a transaction), if it is no older than the switches this shard has seen. */
  adoptKey(keyHash: string, copy: KeyCopy): "stale" | "ok" | "restricted" {
    if (copy.version < this.version) return "stale";
    if (copy.version > this.version) this.applyState({ ...this.currentState(), version: copy.version });
    const key = copy.key;
    if (!key) {
      // Bounded: a flood of made-up keys costs the parent a read each, never this shard's memory.
      if (this.missing.size >= 10_000) this.missing.clear();
      this.missing.add(keyHash);
      return "ok";
    }
    if (copy.restricted) {
      this.restricted.add(keyHash);
      return "restricted";
    }
    this.keys.write(
      "INSERT OR REPLACE INTO agent_keys (id, name, key_hash, created_at, frozen_at) VALUES (?, ?, ?, ?, ?)",
      key.id ?? null,
      key.name ?? null,
      key.key_hash ?? null,
      key.created_at ?? null,
      key.frozen_at ?? null,
    );
    return "ok";
  }

  /** What the parent has not rolled in yet, and all handed back so far. */
  report(): ShardReport {
    const rows = this.sql.all("SELECT t.* FROM transfers t, export_state s WHERE s.id = 1 AND t.seq > s.exported_seq ORDER BY t.seq LIMIT ?", REPORT_ROWS);
    return { index: this.index, rows, returned: this.returned() };
  }

  /** Whether a report would tell the parent anything it may not know. */
  hasNews(lastReturned: number): boolean {
    const behind = this.sql.one("SELECT 1 AS x FROM transfers t, export_state s WHERE s.id = 1 AND t.seq > s.exported_seq LIMIT 1");
    return behind !== null || this.returned() !== lastReturned;
  }

  /** All the parent has granted this shard, as far as it knows. */
  granted(): number {
    return Number(this.sql.one("SELECT credits FROM balance WHERE id = 1")?.credits ?? 0);
  }

  returned(): number {
    return Number(this.sql.one("SELECT value FROM meta WHERE key = 'lease_returned'")?.value ?? 0);
  }

  private currentState(): LeaseState {
    const credits = Number(this.sql.one("SELECT credits FROM balance WHERE id = 1")?.credits ?? 0);
    const rolledSeq = Number(this.sql.one("SELECT exported_seq FROM export_state WHERE id = 1")?.exported_seq ?? 0);
    return { granted: credits, rolledSeq, shards: this.shards, frozen: this.journal.meta()?.frozen ?? false, version: this.version };
  }
}
