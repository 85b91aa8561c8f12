import { DurableObject } from "cloudflare:workers";
import type { Dispute } from "./dispute-types";
import type { Disputes } from "./disputes";
import type { Journal } from "./journal";
import type { Outbox } from "./outbox";
import type { Pass } from "./pass-types";
import type { Passes } from "./passes";
import type { Reads } from "./reads";
import type { Turns } from "./turns";
import type { AgentKey, AgentView, AuditEvent, Balance, Hold, LedgerEnv, Mandate, Page, Transfer } from "./types";

/**
 * The read half of AccountLedger's RPC surface (account.ts holds the writes): what readers see,
 * each answered in its turn, so a read never sees a reserve's transaction half done.
 */
export abstract class LedgerReadSurface extends DurableObject<LedgerEnv> {
  protected abstract readonly journal: Journal;
  protected abstract readonly turns: Turns;
  protected abstract readonly outbox: Outbox;
  protected abstract readonly reads: Reads;
  protected abstract readonly disputes: Disputes;
  protected abstract readonly passes: Passes;

  balance(): Promise<Balance | null> {
    return this.#read(() => this.reads.balance());
  }

  hold(holdId: string): Promise<Hold | null> {
    return this.#read(() => this.reads.hold(holdId));
  }

  transfers(limit: number, cursor: number | null): Promise<Page<Transfer>> {
    return this.#read(() => this.reads.transfers(limit, cursor));
  }

  agentKeys(limit: number, cursor: string | null): Promise<Page<AgentKey>> {
    return this.#read(() => this.reads.agentKeys(limit, cursor));
  }

  agent(keyHash: string): Promise<AgentView> {
    return this.#read(() => this.reads.agent(keyHash));
  }

  mandates(limit: number, cursor: string | null): Promise<Page<Mandate>> {
    return this.#read(() => this.reads.mandates(limit, cursor));
  }

  mandate(id: string): Promise<Mandate | null> {
    return this.#read(() => this.reads.mandate(id));
  }

  auditEvents(limit: number, cursor: number | null): Promise<Page<AuditEvent>> {
    return this.#read(() => this.reads.auditEvents(limit, cursor));
  }

  passList(limit: number, cursor: string | null): Promise<Page<Pass> | null> {
    return this.#read(() => this.passes.list(limit, cursor));
  }

  dispute(id: string): Promise<Dispute | null> {
    return this.#read(() => this.disputes.read(id));
  }

  auditHead(): Promise<{ seq: number; hash: string | null; exported_seq: number } | null> {
    return this.#read(() => this.reads.auditHead());
  }

  /** How far the journal has reached D1 (for the reconciler, I7). */
  exportCursor(): Promise<{ exported_seq: number; journal_seq: number } | null> {
    return this.#read(() => (this.journal.meta() ? this.outbox.cursor() : null));
  }

  /** A read in its turn: the turn is the only await before it. */
  async #read<T>(fn: () => T): Promise<T> {
    await this.turns.inTurn();
    return fn();
  }
}
