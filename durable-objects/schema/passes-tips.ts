/**
 * Schema version 10 (see ../schema.ts): passes and tips.
 *
 * - The journal gains `tip`, a one-off gift from the account to a service's provider. A pass's
 *   purchase and each renewal are `capture`s with no hold (reason `pass_purchase` or
 *   `pass_renewal`, `reference` the pass): the provider earns them like any charge, and they can
 *   be refunded or disputed like one. SQLite cannot change a CHECK, so the journal is rebuilt as
 *   in v8 and v9 (rows copied unchanged; a DROP TABLE fires no DELETE trigger).
 * - `passes`: what an account bought of a service's plan. A call a pass covers takes one of its
 *   calls in the reserve's own transaction; the CHECK keeps `calls_left` between 0 and `calls`,
 *   so no pass serves more calls than it holds, whatever the code above it does (I16). `period`
 *   counts renewals: a renewal moves it by exactly one, once.
 * - `holds.pass_id`: the pass a call drew on (a failed call gives the call back).
 * - `mandates.max_tip`: the most one tip may be under the mandate (0: no tips).
 */
export const V10_PASSES_TIPS = `
  CREATE TABLE transfers_v10 (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('credit', 'capture', 'refund', 'compensation', 'repayment', 'tip')),
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
    CHECK (kind NOT IN ('compensation', 'repayment') OR dispute_id IS NOT NULL),
    CHECK (kind <> 'tip' OR provider_id IS NOT NULL)
  );
  INSERT INTO transfers_v10 SELECT seq, id, kind, amount, fee, hold_id, request_id, service_id, provider_id, agent_key_id, reference,
    created_at, usage, shortfall, reason, mandate_id, tags, refund_of, dispute_id FROM transfers;
  DROP TABLE transfers;
  ALTER TABLE transfers_v10 RENAME TO transfers;
  CREATE INDEX transfers_refund_of ON transfers (refund_of) WHERE refund_of IS NOT NULL;
  CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
  CREATE TRIGGER transfers_append_only BEFORE INSERT ON transfers
    WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM transfers)
      OR EXISTS (SELECT 1 FROM transfers WHERE id = NEW.id OR hold_id = NEW.hold_id)
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

  CREATE TABLE passes (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL,
    plan_name TEXT NOT NULL,
    service_id TEXT NOT NULL,
    service_slug TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    fee_bps INTEGER NOT NULL,
    price INTEGER NOT NULL CHECK (price > 0),
    duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms > 0),
    calls INTEGER CHECK (calls IS NULL OR calls > 0),
    calls_left INTEGER CHECK (calls_left IS NULL OR (calls_left >= 0 AND calls_left <= calls)),
    status TEXT NOT NULL CHECK (status IN ('active', 'used_up', 'expired', 'lapsed')),
    starts_at INTEGER NOT NULL,
    expires_at INTEGER,
    auto_renew INTEGER NOT NULL DEFAULT 0 CHECK (auto_renew IN (0, 1)),
    period INTEGER NOT NULL DEFAULT 1 CHECK (period >= 1),
    agent_key_id TEXT,
    mandate_id TEXT,
    lapse_reason TEXT,
    created_at INTEGER NOT NULL,
    CHECK (duration_ms IS NOT NULL OR calls IS NOT NULL),
    CHECK ((calls IS NULL) = (calls_left IS NULL)),
    CHECK ((duration_ms IS NULL) = (expires_at IS NULL))
  );
  CREATE INDEX passes_plan ON passes (plan_id, status);
  CREATE INDEX passes_due ON passes (expires_at) WHERE status = 'active';
  ALTER TABLE holds ADD COLUMN pass_id TEXT;
  ALTER TABLE mandates ADD COLUMN max_tip INTEGER CHECK (max_tip IS NULL OR max_tip >= 0);
  `;
