import type { LiveKeys } from "./admin";
import type { Journal } from "./journal";
import { exportDue, type Outbox } from "./outbox";
import { rollIn } from "./shard-rollin";
import { type KeyCopy, type LeaseRequest, type LeaseState, MAX_SHARDS, type SetShardsResult, type ShardEnv, type ShardReport, shardName } from "./shard-types";
import type { Turns } from "./turns";
import type { Actor } from "./types";

/**
 * The parent's side of a hot account (docs/HOT-ACCOUNTS.md): the `shards` setting, the leases of
 * its available balance to the shard objects, the shards' captures rolled into its own journal,
 * and the switches (freeze, revocation, fewer shards) pushed to every shard before it answers.
 *
 * A lease is money moved inside the account, never a transfer: what is leased out counts in the
 * parent's `pending` (granted on a guarded UPDATE, like a hold), so the balance's CHECK keeps
 * `debits + holds + leases ≤ credits` (I2) across every shard. A shard's capture becomes a journal
 * transfer of the account (its id kept, the parent's next seq) when its report arrives.
 */
export class ShardLeases {
  /** The `shards` setting (1: a plain account). */
  count = 1;
  /** Shard rows exist: the parent's reserve looks at leases; false for a plain account. */
  private opened = false;
  /** Bumped by every switch pushed to the shards; a shard never trusts a key copy older than its own. */
  private version = 0;
  private recalling: Promise<void> | null = null;
  /** Requests the shards sent to this object, and requests it sent to each shard (measurement: bench/, tests). */
  shardRequests = 0;
  readonly sentToShard = new Map<number, number>();
  /** Recalls under way: a grant meanwhile gives only what calls wait for (see `grantNow`). */
  private reclaiming = 0;
  /** What the parent's own reserves in flight will take: no lease is granted from it (see `covered`). */
  private claimed = 0;

  constructor(
    private readonly journal: Journal,
    private readonly turns: Turns,
    private readonly outbox: Outbox,
    private readonly keys: LiveKeys,
    private readonly env: ShardEnv,
  ) {}

  private get sql() {
    return this.journal.sql;
  }

  /** Reads the setting once, when the object starts (a plain account pays nothing per call). */
  load(): void {
    if (!this.journal.meta()) return;
    const rows = this.sql.all("SELECT key, value FROM meta WHERE key IN ('shards', 'config_version')");
    this.count = Number(rows.find((r) => r.key === "shards")?.value ?? 1);
    this.version = Number(rows.find((r) => r.key === "config_version")?.value ?? 0);
    this.opened = this.sql.one("SELECT 1 AS x FROM shard_leases LIMIT 1") !== null;
  }

  /** Whether calls, leases or switches involve shards at all. */
  get active(): boolean {
    return this.opened;
  }

  /** A hot account's reserve on the parent: leases recalled first if the parent alone is short; the shard count rides along. */
  async onParent<T extends object>(reserve: (onTurn: () => void) => Promise<T>, amount: number): Promise<T & { shards?: number }> {
    const result = await this.covered(amount, reserve);
    return this.count > 1 ? { ...result, shards: this.count } : result;
  }

  /** An administrative switch (a key revoked, the account frozen…), pushed to every shard before it answers. */
  async pushAfter<T>(change: Promise<T>): Promise<T> {
    const result = await change;
    if (this.active) await this.push();
    return result;
  }

  /** Sets the shard count; new shards are opened, and shards beyond it hand their leases back before this answers. */
  async set(shards: number, actor: Actor): Promise<SetShardsResult> {
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) return { ok: false, code: "invalid_shards" };
    const result = await this.turns.mutate(actor, (log) => {
      if (shards !== this.count) log({ event: "shards_set", outcome: "ok", amount: shards, reason: `${this.count} -> ${shards}` });
      this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('shards', ?)", String(shards));
      for (let i = 1; i <= (shards > 1 ? shards : 0); i++) this.sql.exec("INSERT OR IGNORE INTO shard_leases (shard) VALUES (?)", i);
      return { ok: true as const, shards };
    });
    if (!result.ok) return result;
    // In memory only once the transaction committed.
    this.count = shards;
    this.opened ||= shards > 1;
    await this.push();
    return result;
  }

  /**
   * Leases part of the available balance to a shard. `need` > 0: calls wait on the shard for that
   * much; if what the parent has is short of it, the parent recalls the other shards' unheld
   * leases and gives the rest, so a shard refuses a call only when the whole account could not
   * cover it. Past the need, at most a fair share of what is available.
   */
  async grant(request: LeaseRequest): Promise<LeaseState | null> {
    this.shardRequests++;
    const short = request.need > 0 && this.journal.meta() !== null && this.journal.readBalance().available - this.claimed < request.need;
    if (short) await this.reclaim();
    const first = await this.grantNow(request, short);
    if (short || first.given >= request.need) return first.state;
    // Other grants in the same turn took the money first: recall (which takes back this shard's
    // part grant too, being unheld), then give the whole need.
    await this.reclaim();
    return (await this.grantNow(request, true)).state;
  }

  /**
   * `short`: the parent recalled the other shards for this request, so it gives no more than the
   * waiting calls need (an extra share would sit unheld on one shard while another refuses); so
   * does any grant while a recall is under way. The parent's own reserves in flight keep what
   * they claimed.
   */
  private async grantNow({ index, need, want }: LeaseRequest, short: boolean): Promise<{ state: LeaseState | null; given: number }> {
    await this.turns.inTurn();
    return this.journal.txn(() => {
      const meta = this.journal.meta();
      if (!meta || !this.row(index)) return { state: null, given: 0 };
      const free = this.journal.readBalance().available - this.claimed;
      const capped = short || this.reclaiming > 0;
      let given = 0;
      if (!meta.frozen && index <= this.count && this.count > 1 && free > 0 && (need > 0 || !capped)) {
        const give = Math.min(free, capped ? need : Math.max(need, Math.min(want, Math.ceil(free / this.count))));
        const moved = this.sql.one("UPDATE balance SET pending = pending + ?1 WHERE id = 1 AND credits - debits - pending >= ?1 RETURNING pending", give);
        if (moved && give > 0) {
          this.sql.exec("UPDATE shard_leases SET granted = granted + ?, drained = 0 WHERE shard = ?", give, index);
          given = give;
        }
      }
      return { state: this.state(index), given };
    });
  }

  /** A shard's report: its new captures and refunds join the journal (once each), what it handed back is available again. */
  async report(report: ShardReport): Promise<LeaseState | null> {
    this.shardRequests++;
    await this.turns.inTurn();
    const rolled = this.journal.txn(() => rollIn(this.journal, report, null));
    if (rolled > 0) await this.outbox.scheduleAlarm(exportDue());
    await this.outbox.exportAudit();
    return this.journal.meta() && this.row(report.index) ? this.state(report.index) : null;
  }

  /** A key as a shard may serve it (read in turn, so a revocation sent before it is seen). */
  async keyCopy(keyHash: string): Promise<KeyCopy> {
    this.shardRequests++;
    await this.turns.inTurn();
    const key = this.journal.meta() ? this.keys.get(keyHash) : null;
    const restricted = key != null && (key.mandate_id != null || key.max_calls_per_minute != null || key.max_spend_per_minute != null);
    return { version: this.version, key, restricted };
  }

  /**
   * A reserve on the parent itself (a key only the parent serves, or a call a shard could not
   * cover). Its amount is claimed until its transaction's turn comes (`reserve` calls `onTurn`
   * then; a reserve that does not is claimed until it answers), so no lease is granted from it
   * meanwhile; when the parent alone is short of what its reserves claim, it first takes back
   * what the shards hold unheld. A call is never refused while the account as a whole could cover it.
   */
  async covered<T>(amount: number, reserve: (onTurn: () => void) => Promise<T>): Promise<T> {
    let claim = amount;
    const unclaim = () => {
      this.claimed -= claim;
      claim = 0;
    };
    this.claimed += claim;
    try {
      if (this.journal.readBalance().available < this.claimed) await this.reclaim();
      return await reserve(unclaim);
    } finally {
      unclaim();
    }
  }

  /** Takes back the shards' unheld leases, if any shard may hold some; concurrent callers share one recall. */
  private async reclaim(): Promise<void> {
    if (!this.sql.one("SELECT 1 AS x FROM shard_leases WHERE drained = 0 AND granted > returned + spent")) return;
    this.reclaiming++;
    try {
      this.recalling ??= this.recall().finally(() => {
        this.recalling = null;
      });
      await this.recalling;
    } finally {
      this.reclaiming--;
    }
  }

  /**
   * Pushes the switches (freeze, key changes, the shard count) to every shard and waits for all:
   * when the change that called this answers, no shard serves a call the change forbids. Each
   * shard answers with its report, so a shard that closes hands its lease back in the same trip.
   */
  async push(): Promise<void> {
    await this.turns.inTurn();
    const meta = this.journal.meta();
    if (!meta) return;
    const indexes = this.journal.txn(() => {
      this.version += 1;
      this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('config_version', ?)", String(this.version));
      return this.sql.all("SELECT shard FROM shard_leases ORDER BY shard").map((r) => Number(r.shard));
    });
    await Promise.all(
      indexes.map(async (index) => {
        const config = { ...this.state(index), accountId: meta.accountId, index, currency: meta.currency };
        // Once more on a new stub (a stub that threw can stay broken); then the change that
        // pushed fails, so its caller retries it, and the retry pushes again.
        const report = await this.shard(index)
          .configure(config)
          .catch(() => this.shard(index).configure(config));
        await this.applyInTurn(report, null);
      }),
    );
  }

  private async recall(): Promise<void> {
    const rows = this.sql.all("SELECT shard, granted FROM shard_leases WHERE drained = 0 AND granted > returned + spent");
    await Promise.all(
      rows.map(async (r) => {
        const index = Number(r.shard);
        try {
          await this.applyInTurn(await this.shard(index).recall(Number(r.granted)), Number(r.granted));
        } catch (err) {
          console.error("recalling a shard's lease failed", index, String(err));
        }
      }),
    );
  }

  private async applyInTurn(report: ShardReport, recalledAt: number | null): Promise<void> {
    await this.turns.inTurn();
    const rolled = this.journal.txn(() => rollIn(this.journal, report, recalledAt));
    if (rolled > 0) await this.outbox.scheduleAlarm(exportDue());
    await this.outbox.exportAudit();
  }

  private row(index: number) {
    return this.sql.one("SELECT * FROM shard_leases WHERE shard = ?", index);
  }

  private state(index: number): LeaseState {
    const row = this.row(index);
    return {
      granted: Number(row?.granted ?? 0),
      rolledSeq: Number(row?.rolled_seq ?? 0),
      shards: this.count,
      frozen: this.journal.meta()?.frozen ?? false,
      version: this.version,
    };
  }

  private shard(index: number) {
    this.sentToShard.set(index, (this.sentToShard.get(index) ?? 0) + 1);
    const accountId = this.journal.meta()?.accountId ?? "";
    return this.env.SHARD.get(this.env.SHARD.idFromName(shardName(accountId, index)));
  }
}
