/** Schema version 9 (see ../schema.ts): disputes, and the journal kinds they move money with. */
export const V9_DISPUTES = `
  -- v9, disputes. Two journal kinds, 'compensation' (the platform's compensation account credits
  -- the payer at once) and 'repayment' (the payer's side gives it back when the provider's
  -- earnings refund the charge), and dispute_id on every transfer a dispute moves. The table is
  -- rebuilt for the wider CHECK as in v8.
  CREATE TABLE transfers_v9 (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('credit', 'capture', 'refund', 'compensation', 'repayment')),
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
    dispute_id TEXT,
    CHECK ((kind = 'refund') = (refund_of IS NOT NULL)),
    CHECK (kind NOT IN ('compensation', 'repayment') OR dispute_id IS NOT NULL)
  );
  INSERT INTO transfers_v9 (seq, id, kind, amount, fee, hold_id, request_id, service_id, provider_id, agent_key_id, reference, created_at,
      usage, shortfall, reason, mandate_id, tags, refund_of)
    SELECT seq, id, kind, amount, fee, hold_id, request_id, service_id, provider_id, agent_key_id, reference, created_at,
      usage, shortfall, reason, mandate_id, tags, refund_of FROM transfers;
  DROP TABLE transfers;
  ALTER TABLE transfers_v9 RENAME TO transfers;
  CREATE INDEX transfers_refund_of ON transfers (refund_of) WHERE refund_of IS NOT NULL;
  CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  CREATE TRIGGER transfers_append_only BEFORE INSERT ON transfers
    WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM transfers)
      OR EXISTS (SELECT 1 FROM transfers WHERE id = NEW.id OR hold_id = NEW.hold_id)
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

  -- One dispute per charge, ever. A dispute leaves 'open' once, and its final state never
  -- changes (I14): the trigger refuses any update of a row that is no longer open.
  CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    transfer_id TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL CHECK (reason IN ('unauthorized', 'not_delivered', 'defective', 'duplicate')),
    detail TEXT,
    amount INTEGER NOT NULL CHECK (amount > 0),
    compensated INTEGER NOT NULL DEFAULT 0 CHECK (compensated >= 0 AND compensated <= amount),
    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'won_by_payer', 'won_by_provider')),
    evidence TEXT,
    contested_at INTEGER,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER,
    -- Grows with every change (the export's cursor: what changed after disputes_exported_version).
    version INTEGER NOT NULL UNIQUE
  );
  CREATE TRIGGER disputes_final BEFORE UPDATE ON disputes WHEN OLD.status <> 'open'
    BEGIN SELECT RAISE(ABORT, 'a dispute''s final state never changes'); END;
  CREATE TRIGGER disputes_no_delete BEFORE DELETE ON disputes
    BEGIN SELECT RAISE(ABORT, 'disputes are never deleted'); END;
  ALTER TABLE export_state ADD COLUMN disputes_exported_version INTEGER NOT NULL DEFAULT 0;
  `;
