import { DurableObject } from "cloudflare:workers";
import { LiveKeys } from "./admin";
import { Holds } from "./holds";
import { Journal } from "./journal";
import { Outbox } from "./outbox";
import { ShardLease } from "./shard-lease";
import type { LeaseState, ShardConfig, ShardEnv, ShardReport, ShardReserveResult } from "./shard-types";
import { Turns } from "./turns";
import type { ExtendResult, ReleaseInput, ReleaseResult, ReserveInput, ReserveResult, Settlement, SettlementOutcome, StoredResponse } from "./types";

/** A shard idle this long hands its lease back (the alarm). */
export const SHARD_IDLE_MS = 30_000;
/** A lease is topped up in the background when it covers fewer calls of the last size than this. */
const LOW_WATER_CALLS = 8;
/** A lease asks for this many calls of the last size (the parent caps it at a fair share). */
const LEASE_CALLS = 32;
/** Lease requests a short call may wait for, while each one still brings money. */
const SHORT_ROUNDS = 4;
/** Report pages one alarm sends before it lets the next alarm go on. */
const REPORT_PAGES = 20;
/** When a report to the parent failed, the alarm tries again this much later. */
const REPORT_RETRY_MS = 2_000;

/**
 * AccountShard: one of a hot account's N spending objects (docs/HOT-ACCOUNTS.md). It serves the
 * calls of keys with no mandate and no velocity limits against a lease of the account's balance,
 * with the account's own reserve and capture code (holds.ts) on a lease-sized balance
 * (shard-lease.ts): one round trip per call, as for a plain account. It asks its parent (the
 * account's AccountLedger) for more ahead of need, and at once when a call finds the lease short;
 * it hands back what it does not use (idle, recalled, frozen, closed); its captures reach the
 * account's journal — and D1 through it — by its alarm's reports.
 */
export class AccountShard extends DurableObject<ShardEnv> {
  private readonly journal: Journal;
  private readonly turns: Turns;
  private readonly outbox: Outbox;
  private readonly keys: LiveKeys;
  private readonly holds: Holds;
  readonly lease: ShardLease;
  /** When the shard last served a call (the idle clock; a restart starts it again). */
  lastCall = Date.now();
  /** The `returned` figure of the last report the parent took. */
  private reportedReturned = -1;
  /** What the calls waiting for the next lease request need, and the lease to aim for. */
  private demand = { need: 0, want: 0 };
  private nextRound: Promise<void> | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: ShardEnv) {
    super(ctx, env);
    this.journal = new Journal(ctx.storage);
    this.outbox = new Outbox(this.journal, ctx.storage, null);
    this.turns = new Turns(this.journal, this.outbox);
    this.keys = new LiveKeys(this.journal);
    this.holds = new Holds(this.journal, this.outbox, this.turns, this.keys);
    this.lease = new ShardLease(this.journal, this.keys);
    if (this.journal.isOpened()) this.journal.migrate();
    this.lease.load();
    ctx.blockConcurrencyWhile(() => this.outbox.load());
  }

  // From the Worker: the spending methods of AccountLedger, with the same inputs.

  async reserve(input: ReserveInput): Promise<ShardReserveResult> {
    if (!this.lease.serving) return this.notHere("closed");
    if (input.idempotency || input.passes || input.deferredRule) return this.notHere("parent_only");
    this.lastCall = Date.now();
    if ((await this.keyFor(input.keyHash)) === "restricted") return this.notHere("restricted_key");
    let result: ReserveResult = await this.holds.reserve(input);
    if (result.ok && this.lease.available() < LOW_WATER_CALLS * input.amount) void this.topUp(0, input.amount);
    // Short: ask the parent now (one hop, shared by the calls short at the same moment) and try
    // again, while the parent still gives something. The parent recalls the other shards' unheld
    // leases before it gives nothing, so a refusal then is final.
    for (let round = 0; round < SHORT_ROUNDS && !result.ok && result.code === "insufficient_funds" && this.lease.serving; round++) {
      const granted = this.lease.granted();
      await this.topUp(input.amount, input.amount);
      result = await this.holds.reserve(input);
      if (this.lease.granted() === granted) break;
    }
    await this.outbox.scheduleAlarm(this.lastCall + SHARD_IDLE_MS);
    return { ...result, shards: this.lease.shards };
  }

  async settleThenReserve(settlements: readonly Settlement[], input: ReserveInput): Promise<{ settled: SettlementOutcome[]; reserved: ShardReserveResult }> {
    const settled = await this.settle(settlements);
    return { settled, reserved: await this.reserve(input) };
  }

  async settle(settlements: readonly Settlement[]): Promise<SettlementOutcome[]> {
    const settled = await this.holds.settle(settlements);
    await this.afterRelease();
    return settled;
  }

  async release(input: ReleaseInput): Promise<ReleaseResult> {
    const released = await this.holds.release(input);
    await this.afterRelease();
    return released;
  }

  extendHold(holdId: string, ttlMs: number): Promise<ExtendResult> {
    return this.holds.extendHold(holdId, ttlMs);
  }

  keepResponse(holdId: string, response: StoredResponse | null): Promise<void> {
    return this.holds.keepResponse(holdId, response);
  }

  // From the parent.

  /** Opens the shard or changes its switches; a shard that stops serving hands its lease back in the answer. */
  async configure(config: ShardConfig): Promise<ShardReport> {
    await this.turns.inTurn();
    this.journal.migrate();
    this.journal.txn(() => this.lease.configure(config));
    return this.lease.report();
  }

  /** The parent takes back everything unheld (it is about to refuse a call for want of money). */
  async recall(granted: number): Promise<ShardReport> {
    await this.turns.inTurn();
    if (!this.journal.meta()) return { index: this.lease.index, rows: [], returned: 0 };
    this.journal.txn(() => {
      this.lease.applyState({ granted, rolledSeq: 0, shards: this.lease.shards, frozen: this.journal.meta()?.frozen ?? false, version: this.lease.version });
      this.lease.handBack();
    });
    return this.lease.report();
  }

  /** Expires holds, hands an idle lease back, and reports to the parent. */
  override async alarm(): Promise<void> {
    await this.outbox.alarm((now) => {
      this.holds.expire(now);
      if (now - this.lastCall >= SHARD_IDLE_MS || !this.lease.serving) this.journal.txn(() => this.lease.handBack());
    });
    if (!this.journal.meta()) return;
    const sent = await this.sendReport();
    if (!sent) await this.outbox.scheduleAlarm(Date.now() + REPORT_RETRY_MS);
    else if (this.lease.available() > 0) await this.outbox.scheduleAlarm(this.lastCall + SHARD_IDLE_MS);
  }

  private parent() {
    const accountId = this.journal.meta()?.accountId ?? "";
    return this.env.ACCOUNT.get(this.env.ACCOUNT.idFromName(accountId));
  }

  private notHere(reason: "restricted_key" | "parent_only" | "closed"): ShardReserveResult {
    return { ok: false, code: "not_here", reason, shards: this.lease.shards };
  }

  /** The key, copied from the parent on first use; a copy older than the last switch is asked for again. */
  private async keyFor(keyHash: string): Promise<"ok" | "restricted"> {
    if (this.lease.restricted.has(keyHash)) return "restricted";
    if (this.lease.missing.has(keyHash) || this.keys.get(keyHash)) return "ok";
    for (let attempt = 0; attempt < 2; attempt++) {
      const copy = await this.parent().keyCopy(keyHash);
      const adopted = this.journal.txn(() => this.lease.adoptKey(keyHash, copy));
      if (adopted !== "stale") return adopted;
    }
    return "ok";
  }

  /**
   * Asks the parent for more lease: the calls short at the same moment add up their amounts into
   * one request (`need`), sent after the current one answers; `want` is the lease to aim for.
   */
  private topUp(need: number, callAmount: number): Promise<void> {
    this.demand.need += need;
    this.demand.want = Math.max(this.demand.want, LEASE_CALLS * callAmount);
    this.nextRound ??= (async () => {
      await this.inFlight;
      await scheduler.wait(0);
      this.nextRound = null;
      const { need: n, want } = this.demand;
      this.demand = { need: 0, want: 0 };
      this.inFlight = this.requestLease(n, n + want);
      await this.inFlight;
    })();
    return this.nextRound;
  }

  private async requestLease(need: number, want: number): Promise<void> {
    try {
      const state = await this.parent().grantLease({ index: this.lease.index, need, want });
      if (state) await this.adopt(state);
    } catch (err) {
      console.error("asking the parent for a lease failed", this.lease.index, String(err));
    }
  }

  private async adopt(state: LeaseState): Promise<void> {
    await this.turns.inTurn();
    this.journal.txn(() => {
      this.lease.applyState(state);
      if (!this.lease.serving) this.lease.handBack();
    });
  }

  /** A drained or closed shard sends what its holds release straight back (the parent may be refusing calls meanwhile). */
  private async afterRelease(): Promise<void> {
    if (!this.lease.drained && this.lease.serving) return;
    this.journal.txn(() => this.lease.handBack());
    await this.outbox.scheduleAlarm(Date.now());
  }

  private async sendReport(): Promise<boolean> {
    for (let page = 0; page < REPORT_PAGES && this.lease.hasNews(this.reportedReturned); page++) {
      const report = this.lease.report();
      try {
        const state = await this.parent().shardReport(report);
        this.reportedReturned = report.returned;
        // The parent took nothing (it knows no such shard, or waits for an earlier row): try later.
        if (!state || state.rolledSeq < Number(report.rows[0]?.seq ?? 0)) return false;
        await this.adopt(state);
      } catch (err) {
        console.error("reporting to the parent failed; retrying", this.lease.index, String(err));
        return false;
      }
    }
    if (this.lease.hasNews(this.reportedReturned)) await this.outbox.scheduleAlarm(Date.now());
    return true;
  }
}
