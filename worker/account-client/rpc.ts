import type { DisputeStepResult, OpenDisputeInput, OpenDisputeResult, RespondDisputeInput, ResolveDisputeInput } from "../../durable-objects/dispute-types";
import type { BuyPassInput, BuyPassResult, CancelPassInput, CancelPassResult } from "../../durable-objects/pass-types";
import type {
  CreditInput,
  CreditResult,
  ExtendResult,
  OpenResult,
  RefundInput,
  RefundResult,
  ReleaseResult,
  ReserveInput,
  Settlement,
  SettlementOutcome,
  StoredResponse,
  TipInput,
  TipResult,
  UsageReportResult,
} from "../../durable-objects/types";
import type { ShardReserveResult } from "../../durable-objects/shard-types";
import type { LedgerStub, SpendStub } from "./stub";

/**
 * The AccountLedger methods the account client calls, each in one line: when the object's RPC
 * surface changes (its inputs, a method's name), this file is where the Worker follows it.
 * Plain pass-throughs, nothing added to the call.
 */
export const rpc = {
  /** On the ledger or one of a hot account's shards (whose answer may be `not_here`). */
  reserve: (stub: SpendStub, input: ReserveInput): Promise<ShardReserveResult> => stub.reserve(input),
  /** Queued captures, then a reserve, in one request and one commit. */
  captureThenReserve: (
    stub: SpendStub,
    captures: readonly Settlement[],
    input: ReserveInput,
  ): Promise<{ settled: SettlementOutcome[]; reserved: ShardReserveResult }> => stub.settleThenReserve(captures, input),
  /** A batch of queued captures on its own. */
  captureBatch: (stub: SpendStub, captures: readonly Settlement[]): Promise<SettlementOutcome[]> => stub.settle(captures),
  release: (stub: SpendStub, holdId: string, reason: string): Promise<ReleaseResult> => stub.release({ holdId, reason }),
  keepResponse: (stub: SpendStub, holdId: string, response: StoredResponse | null): Promise<void> => stub.keepResponse(holdId, response),
  extendHold: (stub: SpendStub, holdId: string, ttlMs: number): Promise<ExtendResult> => stub.extendHold(holdId, ttlMs),
  reportUsage: (stub: LedgerStub, requestId: string, providerId: string, units: number): Promise<UsageReportResult> =>
    stub.reportUsage({ requestId, units, actor: `provider:${providerId}` }),
  open: (stub: LedgerStub, accountId: string, currency: string): Promise<OpenResult> => stub.open({ accountId, currency, actor: "operator" }),
  credit: (stub: LedgerStub, input: CreditInput): Promise<CreditResult> => stub.credit(input),
  refund: (stub: LedgerStub, input: RefundInput): Promise<RefundResult> => stub.refund(input),
  tip: (stub: LedgerStub, input: TipInput): Promise<TipResult> => stub.tip(input),
  openDispute: (stub: LedgerStub, input: OpenDisputeInput): Promise<OpenDisputeResult> => stub.openDispute(input),
  respondToDispute: (stub: LedgerStub, input: RespondDisputeInput): Promise<DisputeStepResult> => stub.respondToDispute(input),
  resolveDispute: (stub: LedgerStub, input: ResolveDisputeInput): Promise<DisputeStepResult> => stub.resolveDispute(input),
  buyPass: (stub: LedgerStub, input: BuyPassInput): Promise<BuyPassResult> => stub.buyPass(input),
  cancelPass: (stub: LedgerStub, input: CancelPassInput): Promise<CancelPassResult> => stub.cancelPass(input),
};
