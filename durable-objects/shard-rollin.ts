import type { Journal } from "./journal";
import type { ShardReport } from "./shard-types";

/**
 * A shard's report, rolled into its parent's journal (shard-leases.ts), inside a transaction:
 * the shard's rows that follow its cursor join the journal in seq order (a row already rolled
 * in is skipped; a gap stops the roll until the missing row comes), and what it handed back is
 * free again. `recalledAt`: the report answers a recall sent when the parent had
 * granted that much; the shard then holds nothing unheld, unless a grant came since (a recall
 * takes nothing from a shard marked drained, so a later grant must not be hidden by one).
 * Returns how many rows joined the journal.
 */
export function rollIn(journal: Journal, { index, rows, returned }: ShardReport, recalledAt: number | null): number {
  const sql = journal.sql;
  const row = sql.one("SELECT * FROM shard_leases WHERE shard = ?", index);
  if (!row) return 0;
  let seq = Number(row.rolled_seq);
  let spent = Number(row.spent);
  let rolled = 0;
  for (const t of [...rows].sort((a, b) => Number(a.seq) - Number(b.seq))) {
    if (Number(t.seq) <= seq) continue;
    if (Number(t.seq) !== seq + 1 || (t.kind !== "capture" && t.kind !== "refund")) break;
    const amount = Number(t.amount);
    // A capture moves leased money to posted; a refund of one gives it back to the lease.
    const sign = t.kind === "capture" ? 1 : -1;
    sql.exec("UPDATE balance SET debits = debits + ?1, pending = pending - ?1 WHERE id = 1", sign * amount);
    spent += sign * amount;
    journal.appendCopy(t);
    journal.audit({
      actor: t.kind === "capture" ? `agent:${String(t.agent_key_id)}` : "system",
      event: t.kind === "capture" ? "capture" : "refund",
      agent_key_id: t.agent_key_id == null ? null : String(t.agent_key_id),
      service_id: t.service_id == null ? null : String(t.service_id),
      request_id: t.request_id == null ? null : String(t.request_id),
      amount,
      outcome: t.kind === "capture" ? "captured" : "ok",
      reason: `shard ${index}`,
    });
    seq = Number(t.seq);
    rolled++;
  }
  const back = Math.max(0, returned - Number(row.returned));
  if (back > 0) sql.exec("UPDATE balance SET pending = pending - ? WHERE id = 1", back);
  sql.exec(
    "UPDATE shard_leases SET rolled_seq = ?1, spent = ?2, returned = returned + ?3, drained = CASE WHEN granted = ?4 THEN 1 ELSE drained END WHERE shard = ?5",
    seq,
    spent,
    back,
    recalledAt ?? -1,
    index,
  );
  return rolled;
}
