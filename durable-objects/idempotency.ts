import type { Sql } from "./sql";

/**
 * Idempotent money writes (credits, refunds; I3): the first answer under a key is stored in the
 * write's own transaction, and a repeat with the same request gets it back marked `replayed`;
 * with another request, `idempotency_mismatch`, and nothing changes.
 */
export function priorAnswer<T extends object>(
  sql: Sql,
  key: string | null,
  fingerprint: string,
): { ok: false; code: "idempotency_mismatch" } | (T & { replayed: true }) | null {
  const prior = key ? sql.one("SELECT fingerprint, response FROM idempotency WHERE key = ?", key) : null;
  if (!prior) return null;
  if (prior.fingerprint !== fingerprint) return { ok: false, code: "idempotency_mismatch" };
  return { ...(JSON.parse(String(prior.response)) as T), replayed: true };
}

/** Stores a write's first answer under its key (no key: nothing to remember). */
export function rememberAnswer(sql: Sql, key: string | null, fingerprint: string, answer: object, now: number): void {
  if (key) sql.exec("INSERT INTO idempotency (key, fingerprint, response, created_at) VALUES (?, ?, ?, ?)", key, fingerprint, JSON.stringify(answer), now);
}
