/**
 * The AccountLedger's SQLite schema, versioned in `meta.schema_version`. Each entry of
 * MIGRATIONS moves the schema one version up and runs inside one transaction.
 */
export const MIGRATIONS: readonly string[] = [
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
];
