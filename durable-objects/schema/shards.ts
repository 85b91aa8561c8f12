/**
 * Schema version 11 (see ../schema.ts): hot accounts (docs/HOT-ACCOUNTS.md).
 *
 * `shard_leases`, kept by an account's ledger (the parent): one row per shard object it ever
 * opened, with cumulative totals only, so that a report or a grant delivered twice, late or out of
 * order changes nothing the second time: `granted` (all the parent ever leased to the shard),
 * `returned` (all the shard handed back, as the shard last reported it), `spent` (the shard's
 * captures net of their refunds, rolled into the parent's journal) and `rolled_seq` (the last seq
 * of the shard's own journal rolled in). What is still leased out is `granted - returned - spent`;
 * the parent counts it in its balance's `pending`, so the balance's CHECK (I2) covers every shard.
 * `drained`: a recall left the shard nothing unheld (no recall is sent again until a grant).
 */
export const V11_SHARDS = `
  CREATE TABLE shard_leases (
    shard INTEGER PRIMARY KEY CHECK (shard BETWEEN 1 AND 64),
    granted INTEGER NOT NULL DEFAULT 0,
    returned INTEGER NOT NULL DEFAULT 0,
    spent INTEGER NOT NULL DEFAULT 0,
    rolled_seq INTEGER NOT NULL DEFAULT 0,
    drained INTEGER NOT NULL DEFAULT 0,
    CHECK (granted >= 0 AND returned >= 0 AND spent >= 0 AND returned + spent <= granted)
  );
`;
