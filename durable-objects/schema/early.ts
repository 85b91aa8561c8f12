/** The ledger's schema versions 1–8 (see ../schema.ts): accounts, holds, the journal, mandates, the audit trail, velocity, idempotent calls, uncollected captures, refunds. */
export const EARLY: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- One row. The CHECK is the no-overdraft rule (I2) enforced by storage itself: a write that
  -- would break it aborts the transaction, whatever the code above it got wrong.
  CREATE TABLE balance (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    credits INTEGER NOT NULL DEFAULT 0,
    debits INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    CHECK (credits >= 0 AND debits >= 0 AND pending >= 0 AND debits + pending <= credits)
  );
  INSERT INTO balance (id) VALUES (1);

  CREATE TABLE agent_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );

  -- Working state of reservations; each ends exactly once (I4) through a guarded UPDATE.
  CREATE TABLE holds (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    agent_key_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    fee_bps INTEGER NOT NULL,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    captured INTEGER CHECK (captured IS NULL OR (captured >= 0 AND captured <= amount)),
    state TEXT NOT NULL CHECK (state IN ('pending', 'captured', 'voided', 'expired')),
    reason TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    resolved_at INTEGER
  );
  CREATE INDEX holds_pending_expiry ON holds (expires_at) WHERE state = 'pending';

  -- The journal: append-only, gapless seq (I8). Triggers refuse updates and deletes (I5).
  CREATE TABLE transfers (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('credit', 'capture')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    fee INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0 AND fee <= amount),
    hold_id TEXT UNIQUE,
    request_id TEXT,
    service_id TEXT,
    provider_id TEXT,
    agent_key_id TEXT,
    reference TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

  CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  -- The outbox is the journal itself: everything after exported_seq still has to reach D1.
  CREATE TABLE export_state (id INTEGER PRIMARY KEY CHECK (id = 1), exported_seq INTEGER NOT NULL);
  INSERT INTO export_state (id, exported_seq) VALUES (1, 0);
  `,
  `
  -- v2, usage metering: what a capture measured, what it could not capture (beyond the hold),
  -- why it settled as it did; the price rule kept on holds that wait for a deferred report.
  ALTER TABLE transfers ADD COLUMN usage TEXT;
  ALTER TABLE transfers ADD COLUMN shortfall INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0);
  ALTER TABLE transfers ADD COLUMN reason TEXT;
  ALTER TABLE holds ADD COLUMN rule TEXT;
  `,
  `
  -- v3: REPLACE deletes a conflicting row without firing DELETE triggers (recursive_triggers is
  -- off), so INSERT OR REPLACE could rewrite history (I5). An insert must be the next seq (I8)
  -- and must not collide with an existing id or hold.
  CREATE TRIGGER transfers_append_only BEFORE INSERT ON transfers
    WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM transfers)
      OR EXISTS (SELECT 1 FROM transfers WHERE id = NEW.id OR hold_id = NEW.hold_id)
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  `,
  `
  -- v4, mandates and the audit trail. A mandate's terms never change; its counters move with
  -- its holds, and the CHECK keeps what it spent plus holds under its cap whatever the code does.
  CREATE TABLE mandates (
    id TEXT PRIMARY KEY,
    intent TEXT NOT NULL,
    intent_hash TEXT NOT NULL,
    max_total INTEGER NOT NULL,
    max_per_call INTEGER NOT NULL,
    max_per_day INTEGER,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    services TEXT,
    tags TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    spent INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    CHECK (spent >= 0 AND pending >= 0 AND spent + pending <= max_total)
  );
  -- Per UTC day use of a mandate; a hold counts on the day it was made.
  CREATE TABLE mandate_days (
    mandate_id TEXT NOT NULL,
    day TEXT NOT NULL,
    spent INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mandate_id, day)
  );
  ALTER TABLE agent_keys ADD COLUMN mandate_id TEXT;
  ALTER TABLE holds ADD COLUMN mandate_id TEXT;
  ALTER TABLE holds ADD COLUMN tags TEXT;
  ALTER TABLE transfers ADD COLUMN mandate_id TEXT;
  ALTER TABLE transfers ADD COLUMN tags TEXT;

  -- The hash-chained audit trail (see core/audit-chain.ts); append-only like the journal.
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    agent_key_id TEXT,
    mandate_id TEXT,
    intent_hash TEXT,
    service_id TEXT,
    request_id TEXT,
    amount INTEGER,
    outcome TEXT NOT NULL,
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
  CREATE TRIGGER audit_append_only BEFORE INSERT ON audit
    WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit)
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
  ALTER TABLE export_state ADD COLUMN audit_exported_seq INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- v5, velocity limits and the kill switch. Limits are per agent key, in fixed one-minute
  -- windows; a frozen key or account is refused at once, before any money is held.
  ALTER TABLE agent_keys ADD COLUMN max_calls_per_minute INTEGER;
  ALTER TABLE agent_keys ADD COLUMN max_spend_per_minute INTEGER;
  ALTER TABLE agent_keys ADD COLUMN frozen_at INTEGER;
  CREATE TABLE key_minutes (
    agent_key_id TEXT NOT NULL,
    minute INTEGER NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0,
    spend INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_key_id, minute)
  );
  `,
  `
  -- v6, idempotent proxied calls: an agent's Idempotency-Key maps to its first call's hold and,
  -- once that call is settled, its response, which a retry gets back instead of a second charge.
  CREATE TABLE call_keys (
    agent_key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    hold_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    response TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (agent_key_id, idempotency_key)
  );
  `,
  `
  -- v7: a capture that arrives after its hold expired is recorded on the hold (what it would
  -- have charged) so the provider sees the call it was not paid for; idempotency keys are found
  -- by their hold when the call ends, and forgotten a day after they were first used.
  ALTER TABLE holds ADD COLUMN uncollected INTEGER;
  CREATE INDEX call_keys_hold ON call_keys (hold_id);
  CREATE INDEX call_keys_created ON call_keys (created_at);
  `,
  `
  -- v8, refunds: a journal kind 'refund' that names its capture in refund_of. SQLite cannot
  -- change a CHECK, so the table is rebuilt with the wider one (a DROP TABLE fires no DELETE
  -- trigger; the rows are copied first, unchanged) and its append-only triggers made again.
  CREATE TABLE transfers_v8 (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('credit', 'capture', 'refund')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    fee INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0 AND fee <= amount),
    hold_id TEXT UNIQUE,
    request_id TEXT,
    service_id TEXT,
    provider_id TEXT,
    agent_key_id TEXT,
    reference TEXT,
    created_at INTEGER NOT NULL,
    usage TEXT,
    shortfall INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
    reason TEXT,
    mandate_id TEXT,
    tags TEXT,
    refund_of TEXT,
    CHECK ((kind = 'refund') = (refund_of IS NOT NULL))
  );
  INSERT INTO transfers_v8 (seq, id, kind, amount, fee, hold_id, request_id, service_id, provider_id, agent_key_id, reference, created_at,
      usage, shortfall, reason, mandate_id, tags)
    SELECT seq, id, kind, amount, fee, hold_id, request_id, service_id, provider_id, agent_key_id, reference, created_at,
      usage, shortfall, reason, mandate_id, tags FROM transfers;
  DROP TABLE transfers;
  ALTER TABLE transfers_v8 RENAME TO transfers;
  CREATE INDEX transfers_refund_of ON transfers (refund_of) WHERE refund_of IS NOT NULL;
  CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  CREATE TRIGGER transfers_append_only BEFORE INSERT ON transfers
    WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM transfers)
      OR EXISTS (SELECT 1 FROM transfers WHERE id = NEW.id OR hold_id = NEW.hold_id)
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  `,
];
