import { type IdPrefix, newId } from "../core/ids";
import { appendAudit, type AuditEntry, type AuditHead, readAuditHead } from "./audit-log";
import { toHold } from "./rows";
import { MIGRATIONS } from "./schema";
import { type Row, Sql } from "./sql";
import type { Balance, CaptureDetail, Hold, Transfer } from "./types";

/** A transfer's id says what it is: a refund `rf_`, a compensation `cp_`, a repayment `rp_`, a tip `tip_`. */
const ID_PREFIX: Record<Transfer["kind"], IdPrefix> = { credit: "tr", capture: "tr", refund: "rf", compensation: "cp", repayment: "rp", tip: "tip" };

/** What a transfer says about the call or purchase it pays for (a hold or a capture has these fields). */
export type CallRef = Pick<Transfer, "request_id" | "service_id" | "provider_id" | "agent_key_id" | "mandate_id" | "tags">;

/** The journal's columns a copied transfer keeps (all but its seq). */
export const COPIED_COLUMNS = [
  "id",
  "kind",
  "amount",
  "fee",
  "hold_id",
  "request_id",
  "service_id",
  "provider_id",
  "agent_key_id",
  "reference",
  "created_at",
  "usage",
  "shortfall",
  "reason",
  "mandate_id",
  "tags",
  "refund_of",
  "dispute_id",
] as const;

export type Meta = { accountId: string; currency: string; frozen: boolean };

/**
 * The account's storage and its append-only tables: the journal of transfers and the audit
 * chain. Their heads (the last transfer seq, the last audit event) are kept in memory so an
 * append costs no read; `txn` restores them when a transaction rolls back. Every other part of
 * the object writes through here.
 */
export class Journal {
  readonly sql: Sql;
  /** Account id and currency never change once opened, so they are read from storage once. */
  private cachedMeta: Meta | null = null;
  private heads: { audit: AuditHead | null; transferSeq: number | null } = { audit: null, transferSeq: null };
  /** An audit event was appended since the last export was scheduled (see Outbox.exportAudit). */
  private auditUnsent = false;
  private opened = false;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = new Sql(storage.sql);
  }

  /** `transactionSync`, restoring the in-memory heads if it rolls back. */
  txn<T>(fn: () => T): T {
    const saved = { ...this.heads };
    try {
      return this.storage.transactionSync(fn);
    } catch (err) {
      this.heads = saved;
      throw err;
    }
  }

  audit(entry: AuditEntry, now = Date.now()): void {
    this.heads.audit = appendAudit(this.sql, this.meta()?.accountId ?? "", this.heads.audit ?? readAuditHead(this.sql), entry, now);
    this.auditUnsent = true;
  }

  /** Whether audit events were appended since the last call (and so need an export scheduled). */
  takeAuditUnsent(): boolean {
    const unsent = this.auditUnsent;
    this.auditUnsent = false;
    return unsent;
  }

  appendTransfer(t: {
    kind: Transfer["kind"];
    amount: number;
    fee?: number;
    reference?: string | null;
    hold?: Hold;
    /** A refund: the capture it refunds, whose call it describes. */
    refundOf?: Transfer;
    /** A compensation or repayment: the disputed capture, whose call it describes (not refunded). */
    disputedCharge?: Transfer;
    /** Money that moves with no hold (a pass bought or renewed, a tip): who, to whom, under what. */
    call?: CallRef;
    disputeId?: string;
    now: number;
    detail?: CaptureDetail;
  }): Transfer {
    const call: CallRef | undefined = t.hold ?? t.refundOf ?? t.disputedCharge ?? t.call;
    const seq = (this.heads.transferSeq ?? Number(this.sql.one("SELECT COALESCE(MAX(seq), 0) AS seq FROM transfers")?.seq)) + 1;
    const transfer: Transfer = {
      // A refund is a transfer too, named `rf_` so that the id alone says what it is.
      id: newId(ID_PREFIX[t.kind]),
      seq,
      kind: t.kind,
      amount: t.amount,
      fee: t.fee ?? 0,
      currency: this.meta()?.currency ?? "",
      hold_id: t.hold?.id ?? null,
      request_id: call?.request_id ?? null,
      service_id: call?.service_id ?? null,
      provider_id: call?.provider_id ?? null,
      agent_key_id: call?.agent_key_id ?? null,
      mandate_id: call?.mandate_id ?? null,
      tags: call?.tags ?? null,
      reference: t.reference ?? null,
      usage: t.detail?.usage ?? null,
      shortfall: t.detail?.shortfall ?? 0,
      reason: t.detail?.reason ?? null,
      refund_of: t.refundOf?.id ?? null,
      dispute_id: t.disputeId ?? null,
      created_at: new Date(t.now).toISOString(),
    };
    this.sql.exec(
      `INSERT INTO transfers (seq, id, kind, amount, fee, hold_id, request_id, service_id, provider_id, agent_key_id, reference, created_at,
         usage, shortfall, reason, mandate_id, tags, refund_of, dispute_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      transfer.refund_of,
      transfer.dispute_id,
    );
    this.heads.transferSeq = seq;
    return transfer;
  }

  /**
   * Appends a transfer another object of this account wrote (a shard's capture or refund, rolled
   * in by shard-leases.ts) under this journal's next seq, keeping its id, call and time, so the
   * account has one journal and one gapless sequence (I8). Inside the caller's transaction.
   */
  appendCopy(row: Row): number {
    const seq = (this.heads.transferSeq ?? Number(this.sql.one("SELECT COALESCE(MAX(seq), 0) AS seq FROM transfers")?.seq)) + 1;
    const columns = COPIED_COLUMNS.join(", ");
    this.sql.exec(
      `INSERT INTO transfers (seq, ${columns}) VALUES (?${", ?".repeat(COPIED_COLUMNS.length)})`,
      seq,
      ...COPIED_COLUMNS.map((c) => row[c] ?? null),
    );
    this.heads.transferSeq = seq;
    return seq;
  }

  readBalance(): Balance {
    // Differences taken in SQLite's exact 64-bit integers, not as rounded JavaScript numbers.
    const row = this.sql.one("SELECT credits - debits AS posted, pending, credits - debits - pending AS available FROM balance WHERE id = 1") ?? {};
    return { currency: this.meta()?.currency ?? "", posted: Number(row.posted), pending: Number(row.pending), available: Number(row.available) };
  }

  readHold(id: string): Hold | null {
    const row = this.sql.one("SELECT * FROM holds WHERE id = ?", id);
    return row ? toHold(row) : null;
  }

  meta(): Meta | null {
    if (this.cachedMeta) return this.cachedMeta;
    if (!this.isOpened()) return null;
    const rows = this.sql.all("SELECT key, value FROM meta WHERE key IN ('account_id', 'currency', 'frozen')");
    const get = (k: string) => rows.find((r) => r.key === k)?.value;
    const [accountId, currency] = [get("account_id"), get("currency")];
    this.cachedMeta = accountId && currency ? { accountId: String(accountId), currency: String(currency), frozen: get("frozen") === "1" } : null;
    return this.cachedMeta;
  }

  /** Called inside the transaction that wrote the meta rows. */
  setMeta(meta: Meta): void {
    this.cachedMeta = meta;
  }

  isOpened(): boolean {
    this.opened ||= this.sql.one("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'meta'") !== null;
    return this.opened;
  }

  /** Brings the schema to the newest version; each step in its own transaction. */
  migrate(): void {
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

/** A well-formed amount at the ledger's boundary: a non-negative integer below 2^53 (I11). */
export function isAmount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}
