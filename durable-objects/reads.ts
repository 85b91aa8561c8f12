import type { LiveKeys } from "./admin";
import type { Journal } from "./journal";
import { utcDay } from "./mandate-check";
import { mandateRow, useOf } from "./mandates";
import { toAgentKey, toAuditEvent, toMandate, toTransfer } from "./rows";
import type { Row } from "./sql";
import type { AgentKey, AgentView, AuditEvent, Balance, Hold, Mandate, Page, Transfer } from "./types";

/**
 * What the account's readers see: balance, holds, the journal, keys, mandates and the audit
 * trail. Nothing here writes; the facade waits for the request's turn before each.
 */
export class Reads {
  constructor(
    private readonly journal: Journal,
    private readonly keys: LiveKeys,
  ) {}

  private get sql() {
    return this.journal.sql;
  }

  balance(): Balance | null {
    return this.journal.meta() ? this.journal.readBalance() : null;
  }

  hold(holdId: string): Hold | null {
    return this.journal.isOpened() ? this.journal.readHold(holdId) : null;
  }

  /** The journal, newest first; `cursor` is the seq to continue below. */
  transfers(limit: number, cursor: number | null): Page<Transfer> {
    const meta = this.journal.meta();
    if (!meta) return empty();
    const rows = this.sql.all("SELECT * FROM transfers WHERE seq < ? ORDER BY seq DESC LIMIT ?", cursor ?? Number.MAX_SAFE_INTEGER, limit + 1);
    return bySeq(rows, limit, (r) => toTransfer(r, meta.currency));
  }

  agentKeys(limit: number, cursor: string | null): Page<AgentKey> {
    if (!this.journal.meta()) return empty();
    return byId(this.sql.all("SELECT * FROM agent_keys WHERE id > ? ORDER BY id LIMIT ?", cursor ?? "", limit + 1), limit, toAgentKey);
  }

  /** What an agent key may see of itself: its account, its key, its mandate and the balance. */
  agent(keyHash: string): AgentView {
    const meta = this.journal.meta();
    const row = meta && this.keys.get(keyHash);
    if (!meta || !row) return { ok: false, code: "invalid_key" };
    const mandate = row.mandate_id == null ? null : mandateRow(this.sql, String(row.mandate_id));
    // What the mandate's daily cap counts today (spent and held, this UTC day), as a reserve checks it.
    const usedToday = mandate ? useOf(this.sql, mandate, utcDay(Date.now())).today : null;
    return {
      ok: true,
      account_id: meta.accountId,
      key: toAgentKey(row),
      balance: this.journal.readBalance(),
      mandate: mandate ? toMandate(mandate) : null,
      mandate_used_today: usedToday,
    };
  }

  mandates(limit: number, cursor: string | null): Page<Mandate> {
    if (!this.journal.meta()) return empty();
    return byId(this.sql.all("SELECT * FROM mandates WHERE id > ? ORDER BY id LIMIT ?", cursor ?? "", limit + 1), limit, toMandate);
  }

  mandate(id: string): Mandate | null {
    const row = this.journal.meta() ? mandateRow(this.sql, id) : null;
    return row ? toMandate(row) : null;
  }

  /** The audit trail, newest first; `cursor` is the seq to continue below. */
  auditEvents(limit: number, cursor: number | null): Page<AuditEvent> {
    const meta = this.journal.meta();
    if (!meta) return empty();
    const rows = this.sql.all("SELECT * FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?", cursor ?? Number.MAX_SAFE_INTEGER, limit + 1);
    return bySeq(rows, limit, (r) => toAuditEvent(r, meta.accountId));
  }

  /** The chain's head and how much of it has reached D1 (for verification against D1). */
  auditHead(): { seq: number; hash: string | null; exported_seq: number } | null {
    if (!this.journal.meta()) return null;
    const head = this.sql.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    const exported = this.sql.one("SELECT audit_exported_seq AS s FROM export_state WHERE id = 1");
    return { seq: Number(head?.seq ?? 0), hash: head ? String(head.hash) : null, exported_seq: Number(exported?.s ?? 0) };
  }
}

function empty<T>(): Page<T> {
  return { data: [], next_cursor: null };
}

/** A page of `limit` from `limit + 1` rows; the cursor is the last seq shown. */
function bySeq<T extends { seq: number }>(rows: Row[], limit: number, map: (r: Row) => T): Page<T> {
  const data = rows.slice(0, limit).map(map);
  return { data, next_cursor: rows.length > limit ? String(data[data.length - 1]?.seq) : null };
}

/** A page of `limit` from `limit + 1` rows; the cursor is the last id shown. */
function byId<T extends { id: string }>(rows: Row[], limit: number, map: (r: Row) => T): Page<T> {
  const data = rows.slice(0, limit).map(map);
  return { data, next_cursor: rows.length > limit ? (data[data.length - 1]?.id ?? null) : null };
}
