import { LedgerReadSurface } from "./account-reads";
import { Admin, LiveKeys } from "./admin";
import { credit } from "./credit";
import type { DisputeStepResult, OpenDisputeInput, OpenDisputeResult, RespondDisputeInput, ResolveDisputeInput } from "./dispute-types";
import { Disputes } from "./disputes";
import { Holds } from "./holds";
import { Journal } from "./journal";
import { Outbox } from "./outbox";
import type { BuyPassInput, BuyPassResult, CancelPassInput, CancelPassResult } from "./pass-types";
import { Passes } from "./passes";
import { Reads } from "./reads";
import { ShardLeases } from "./shard-leases";
import type { KeyCopy, LeaseRequest, LeaseState, Routed, SetShardsResult, ShardEnv, ShardReport } from "./shard-types";
import { refund } from "./refunds";
import { tip } from "./tips";
import { Turns } from "./turns";
import type {
  Actor,
  CaptureInput,
  CaptureResult,
  CreateKeyInput,
  CreateKeyResult,
  CreditInput,
  CreditResult,
  ExtendResult,
  KeyLimits,
  KeyResult,
  LedgerEnv,
  MandateInput,
  MandateResult,
  NotFound,
  OpenInput,
  OpenResult,
  RefundInput,
  RefundResult,
  ReleaseInput,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  Settlement,
  SettlementOutcome,
  StoredResponse,
  TipInput,
  TipResult,
  UsageReport,
  UsageReportResult,
} from "./types";

/**
 * AccountLedger: one per payer account, the single writer of its money. This class is only its
 * RPC surface; each job lives in its own file:
 * - turns.ts: the order requests run in (reserves gathered into one commit) and `mutate`, the
 *   shape of every administrative write;
 * - journal.ts: storage, schema, the append-only journal and audit chain with in-memory heads;
 * - reserve.ts, holds.ts, credit.ts, refunds.ts, disputes.ts, passes.ts, tips.ts: the money (every
 *   money method is one `transactionSync` with no `await` inside, and writes its audit event in the
 *   same transaction);
 * - admin.ts: agent keys, mandates and the kill switches; reads.ts: what readers see, answered
 *   through account-reads.ts (the read half of this surface);
 * - outbox.ts: the one alarm, which expires holds and exports the journal and audit to D1.
 *
 * Writes take one object with the caller as a required `actor` (capture and release act in the
 * name of the hold's agent). Results are plain discriminated unions (`{ ok: true, … }` or
 * `{ ok: false, code, … }`); reads answer null for what does not exist.
 */
export class AccountLedger extends LedgerReadSurface {
  protected readonly journal: Journal;
  protected readonly turns: Turns;
  protected readonly outbox: Outbox;
  private readonly keys: LiveKeys;
  private readonly holds: Holds;
  private readonly admin: Admin;
  protected readonly reads: Reads;
  protected readonly disputes: Disputes;
  protected readonly passes: Passes;
  readonly leases: ShardLeases;

  constructor(ctx: DurableObjectState, env: LedgerEnv) {
    super(ctx, env);
    this.journal = new Journal(ctx.storage);
    this.outbox = new Outbox(this.journal, ctx.storage, env.DB);
    this.turns = new Turns(this.journal, this.outbox);
    this.keys = new LiveKeys(this.journal);
    this.holds = new Holds(this.journal, this.outbox, this.turns, this.keys);
    this.admin = new Admin(this.journal, this.turns, this.outbox, this.keys);
    this.reads = new Reads(this.journal, this.keys);
    this.disputes = new Disputes(this.journal, this.turns, this.outbox);
    this.passes = new Passes(this.journal, this.turns, this.outbox, this.keys);
    // An account that was never opened keeps no schema, so a forged key for a made-up
    // account id writes nothing.
    if (this.journal.isOpened()) this.journal.migrate();
    this.leases = new ShardLeases(this.journal, this.turns, this.outbox, this.keys, env as ShardEnv);
    this.leases.load();
    ctx.blockConcurrencyWhile(() => this.outbox.load());
  }

  // Money. Each method's first await is its turn (see turns.ts): keep it the only hop before it.

  /** Creates the account's ledger; repeating it with the same values is a no-op. */
  open(input: OpenInput): Promise<OpenResult> {
    return this.admin.open(input);
  }

  /** A top-up from outside money (I3: the same idempotency key and body replays the first result). */
  credit(input: CreditInput): Promise<CreditResult> {
    return credit(this.journal, this.turns, this.outbox, input);
  }

  /** Gives back (part of) a capture; the refunds of one capture never sum past it (I5). */
  refund(input: RefundInput): Promise<RefundResult> {
    return refund(this.journal, this.turns, this.outbox, input);
  }

  /** A one-off gift to a service's provider, within the key's mandate and the balance. */
  tip(input: TipInput): Promise<TipResult> {
    const send = () => tip(this.journal, this.turns, this.outbox, this.keys, input);
    return this.leases.active ? this.leases.covered(input.amount, send) : send();
  }

  /** The owner disputes a charge; `unauthorized` is compensated at once (I14). */
  openDispute(input: OpenDisputeInput): Promise<OpenDisputeResult> {
    return this.disputes.open(input);
  }

  /** The provider accepts a dispute (its earnings refund the charge) or contests it. */
  respondToDispute(input: RespondDisputeInput): Promise<DisputeStepResult> {
    return this.disputes.respond(input);
  }

  /** The operator decides an open dispute; a dispute reaches one final state (I14). */
  resolveDispute(input: ResolveDisputeInput): Promise<DisputeStepResult> {
    return this.disputes.resolve(input);
  }

  /** Buys a pass of a service's plan: its price charged inside the key's mandate (I9, I16). */
  buyPass(input: BuyPassInput): Promise<BuyPassResult> {
    const buy = () => this.passes.buy(input);
    return this.leases.active ? this.leases.covered(input.plan.price, buy) : buy();
  }

  /** Stops a pass's renewal; it runs to its end. */
  cancelPass(input: CancelPassInput): Promise<CancelPassResult> {
    return this.passes.cancel(input);
  }

  /** Key check, mandate check and hold in one transaction (I2, I9). */
  reserve(input: ReserveInput): Promise<Routed<ReserveResult>> {
    // A plain account: exactly the reserve it always was (`active` is a field in memory).
    if (!this.leases.active) return this.holds.reserve(input);
    return this.leases.onParent((onTurn) => this.holds.reserve(input, onTurn), input.amount);
  }

  /** The Worker's queued captures, then a reserve: one request and one commit where there would be two. */
  settleThenReserve(settlements: readonly Settlement[], input: ReserveInput): Promise<{ settled: SettlementOutcome[]; reserved: Routed<ReserveResult> }> {
    if (!this.leases.active) return this.holds.settleThenReserve(settlements, input);
    return this.leases.onParent(async (onTurn) => {
      const { settled, reserved } = await this.holds.settleThenReserve(settlements, input, onTurn);
      return { settled, reserved: { ...reserved, shards: this.leases.count } };
    }, input.amount);
  }

  /** The Worker's queued captures, sent on their own (no reserve came to carry them). */
  settle(settlements: readonly Settlement[]): Promise<SettlementOutcome[]> {
    return this.holds.settle(settlements);
  }

  /** Settles a pending hold for `amount` ≤ the hold; the rest is released (I4). */
  capture(input: CaptureInput): Promise<CaptureResult> {
    return this.holds.capture(input);
  }

  /** Releases a pending hold without charge; the hold ends `voided`. */
  release(input: ReleaseInput): Promise<ReleaseResult> {
    return this.holds.release(input);
  }

  /** The provider's report of a deferred call's usage (`POST /v1/usage`). */
  reportUsage(input: UsageReport): Promise<UsageReportResult> {
    return this.holds.reportUsage(input);
  }

  /** Keeps a pending hold alive for `ttlMs` more from now (never shortens it). */
  extendHold(holdId: string, ttlMs: number): Promise<ExtendResult> {
    return this.holds.extendHold(holdId, ttlMs);
  }

  /** Ends an idempotent call's key without a capture: its response to replay, or null to free it. */
  keepResponse(holdId: string, response: StoredResponse | null): Promise<void> {
    return this.holds.keepResponse(holdId, response);
  }

  // Administration.

  createAgentKey(input: CreateKeyInput): Promise<CreateKeyResult> {
    return this.leases.pushAfter(this.admin.createAgentKey(input));
  }

  revokeAgentKey(input: { id: string; actor: Actor }): Promise<KeyResult> {
    return this.leases.pushAfter(this.admin.revokeAgentKey(input));
  }

  setKeyLimits(input: { id: string; limits: Partial<KeyLimits>; actor: Actor }): Promise<KeyResult> {
    return this.leases.pushAfter(this.admin.setKeyLimits(input));
  }

  freezeKey(input: { id: string; frozen: boolean; actor: Actor }): Promise<KeyResult> {
    return this.leases.pushAfter(this.admin.freezeKey(input));
  }

  freezeAccount(input: { frozen: boolean; actor: Actor }): Promise<{ ok: true; frozen: boolean } | NotFound> {
    return this.leases.pushAfter(this.admin.freezeAccount(input));
  }

  createMandate(input: { mandate: MandateInput; actor: Actor }): Promise<MandateResult> {
    return this.admin.createMandate(input);
  }

  revokeMandate(input: { id: string; actor: Actor }): Promise<MandateResult> {
    return this.leases.pushAfter(this.admin.revokeMandate(input));
  }

  // A hot account (docs/HOT-ACCOUNTS.md): its shard count, and what its shards ask of it.

  /** Sets how many shard objects spend from this account (1: none); answers when every shard obeys it. */
  setShards(input: { shards: number; actor: Actor }): Promise<SetShardsResult> {
    return this.leases.set(input.shards, input.actor);
  }

  /** A shard's request for more of the balance (null: no such shard). */
  grantLease(request: LeaseRequest): Promise<LeaseState | null> {
    return this.leases.grant(request);
  }

  /** A shard's captures and returned lease, rolled into this journal once each. */
  shardReport(report: ShardReport): Promise<LeaseState | null> {
    return this.leases.report(report);
  }

  /** An agent key as a shard may copy it. */
  keyCopy(keyHash: string): Promise<KeyCopy> {
    return this.leases.keyCopy(keyHash);
  }

  /** The one alarm: expire overdue holds (I10), export journal and audit (I7), schedule the next run. */
  override alarm(): Promise<void> {
    return this.outbox.alarm((now) => {
      this.holds.expire(now);
      this.passes.renewDue(now);
    });
  }
}
