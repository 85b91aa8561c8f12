import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Providers sell services; their key is stored only as a SHA-256 hex digest. */
export const providers = sqliteTable("providers", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  keyHash: text("key_hash").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** A provider's service: where calls go and what they cost. `prices` is the JSON rule list. */
export const services = sqliteTable(
  "services",
  {
    id: text("id").primaryKey(),
    providerId: text("provider_id")
      .notNull()
      .references(() => providers.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    origin: text("origin").notNull(),
    prices: text("prices").notNull(),
    /** ISO 4217: the currency of the price list; only accounts in it may call the service. */
    currency: text("currency").notNull().default("USD"),
    timeoutMs: integer("timeout_ms").notNull(),
    feeBps: integer("fee_bps"),
    /** How long a hold for deferred usage waits for the provider's report before it expires. */
    holdTimeoutS: integer("hold_timeout_s").notNull().default(3600),
    /** JSON `{max_latency_ms, refund}`: calls the origin answered slower than this are refunded at settlement. */
    sla: text("sla"),
    /** JSON list of plans (passes agents can buy: a price for a duration, a call bundle, or both), each with its `pln_` id. */
    plans: text("plans"),
    /** 1: the provider lists the service in the public catalog (GET /v1/catalog). */
    listed: integer("listed", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("services_slug").on(t.slug), index("services_provider").on(t.providerId, t.createdAt), index("services_listed").on(t.listed, t.id)],
);

/**
 * Custom domains; the primary key makes a hostname belong to one service at most, whatever its
 * state (a claim, even unproven, holds the name). Only `active` rows route calls: a claim starts
 * `pending` until its owner proves control of the name (the DNS TXT `challenge`) and the operator
 * activates it (worker/services/hostnames.ts).
 */
export const serviceHostnames = sqliteTable(
  "service_hostnames",
  {
    hostname: text("hostname").primaryKey(),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id),
    status: text("status", { enum: ["pending", "active"] })
      .notNull()
      .default("pending"),
    /** The value the TXT record `_tollgate-challenge.<hostname>` must hold. */
    challenge: text("challenge").notNull(),
    activatedAt: integer("activated_at"),
  },
  (t) => [index("service_hostnames_service").on(t.serviceId)],
);

/** The account directory; the money itself lives in each account's Durable Object. */
export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  currency: text("currency").notNull(),
  ownerKeyHash: text("owner_key_hash").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * Settled transfers exported from each account's journal, one row per `(account, seq)`:
 * the export's `ON CONFLICT DO NOTHING` on this key makes a repeated export change nothing.
 */
export const transfers = sqliteTable(
  "transfers",
  {
    accountId: text("account_id").notNull(),
    seq: integer("seq").notNull(),
    id: text("id").notNull(),
    kind: text("kind").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    requestId: text("request_id"),
    holdId: text("hold_id"),
    serviceId: text("service_id"),
    providerId: text("provider_id"),
    agentKeyId: text("agent_key_id"),
    reference: text("reference"),
    /** JSON: the usage a metered call measured (tokens, bytes, ms, units; `estimated` when not reported). */
    usage: text("usage"),
    /** What the usage cost beyond the hold, which could not be captured. */
    shortfall: integer("shortfall").notNull().default(0),
    reason: text("reason"),
    fee: integer("fee").notNull().default(0),
    mandateId: text("mandate_id"),
    /** JSON object of cost-allocation tags (mandate's and the call's). */
    tags: text("tags"),
    /** A refund's capture (the `id` of a transfer of the same account); null for other kinds. */
    refundOf: text("refund_of"),
    /** The dispute a compensation, a repayment or a dispute's refund settles; null otherwise. */
    disputeId: text("dispute_id"),
    createdAt: integer("created_at").notNull(),
    exportedAt: integer("exported_at").notNull().default(sql`(unixepoch('subsec') * 1000)`),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.seq] }),
    uniqueIndex("transfers_id").on(t.id),
    index("transfers_provider").on(t.providerId, t.createdAt),
    index("transfers_service").on(t.serviceId, t.createdAt),
    index("transfers_refund_of").on(t.refundOf),
  ],
);

/**
 * Double-entry legs: every transfer's legs sum to zero (I1). `ledger_account` names who the
 * leg belongs to: a payer (`acct_…`), a provider (`prov_…`), `platform` or `external` (money
 * that entered from outside). Positive amounts are credits, negative are debits.
 */
export const ledgerEntries = sqliteTable(
  "ledger_entries",
  {
    accountId: text("account_id").notNull(),
    seq: integer("seq").notNull(),
    leg: integer("leg").notNull(),
    transferId: text("transfer_id").notNull(),
    ledgerAccount: text("ledger_account").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    tags: text("tags"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.seq, t.leg] }),
    index("ledger_entries_account").on(t.ledgerAccount),
    index("ledger_entries_created").on(t.createdAt),
    // A provider's balance is a sum over its legs by currency and age (pending vs available).
    index("ledger_entries_balance").on(t.ledgerAccount, t.currency, t.createdAt),
  ],
);

/**
 * Disputes of charges, exported from the payer's Durable Object (which alone changes them) and
 * kept here so providers and the operator can find them. `version` grows with every change; the
 * export and the routes upsert only a newer version, so their writes commute.
 */
export const disputes = sqliteTable(
  "disputes",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    /** The disputed charge (a capture of `account_id`); one dispute per charge, ever. */
    transferId: text("transfer_id").notNull(),
    providerId: text("provider_id"),
    serviceId: text("service_id"),
    reason: text("reason").notNull(),
    detail: text("detail"),
    amount: integer("amount").notNull(),
    /** What the compensation account credited the payer at once (`unauthorized`); 0 otherwise. */
    compensated: integer("compensated").notNull().default(0),
    currency: text("currency").notNull(),
    status: text("status", { enum: ["open", "accepted", "won_by_payer", "won_by_provider"] }).notNull(),
    evidence: text("evidence"),
    contestedAt: integer("contested_at"),
    createdAt: integer("created_at").notNull(),
    resolvedAt: integer("resolved_at"),
    version: integer("version").notNull(),
  },
  (t) => [
    uniqueIndex("disputes_transfer").on(t.transferId),
    index("disputes_provider").on(t.providerId, t.createdAt),
    index("disputes_account").on(t.accountId, t.createdAt),
  ],
);

/**
 * Money paid out to providers. A payout's check against the provider's available balance and its
 * write (this row and its two legs in `ledger_entries`, under `account_id` = the provider) are one
 * D1 transaction, so racing payouts never exceed what is available (I15).
 */
export const payouts = sqliteTable(
  "payouts",
  {
    id: text("id").primaryKey(),
    providerId: text("provider_id").notNull(),
    /** 1, 2, 3 … per provider: the `seq` of the payout's legs. */
    seq: integer("seq").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    reference: text("reference"),
    idempotencyKey: text("idempotency_key"),
    fingerprint: text("fingerprint"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("payouts_seq").on(t.providerId, t.seq), uniqueIndex("payouts_idempotency").on(t.providerId, t.idempotencyKey)],
);

/**
 * Each account's hash-chained audit trail, exported from its Durable Object; `hash` chains
 * every event to the one before (see core/audit-chain.ts), so an edit here is detectable.
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    accountId: text("account_id").notNull(),
    seq: integer("seq").notNull(),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    event: text("event").notNull(),
    agentKeyId: text("agent_key_id"),
    mandateId: text("mandate_id"),
    intentHash: text("intent_hash"),
    serviceId: text("service_id"),
    requestId: text("request_id"),
    amount: integer("amount"),
    outcome: text("outcome").notNull(),
    reason: text("reason"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.seq] })],
);

/**
 * Self-serve sign-ups (POST /v1/signup): who signed up for each provider made that way. A sign-up
 * sent with an Idempotency-Key keeps only digests of it: `idempotency_key_hash` finds a retry, and
 * `sealed_key` is the provider key sealed under a key derived from the Idempotency-Key (so only
 * the client that chose it can read the provider key back on a retry; worker/onboarding/seal.ts).
 */
export const signups = sqliteTable(
  "signups",
  {
    providerId: text("provider_id")
      .primaryKey()
      .references(() => providers.id),
    email: text("email").notNull(),
    idempotencyKeyHash: text("idempotency_key_hash"),
    /** SHA-256 of the request (name, email): a reused key must send the same. */
    fingerprint: text("fingerprint").notNull(),
    sealedKey: text("sealed_key"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("signups_idempotency").on(t.idempotencyKeyHash)],
);

/**
 * Dashboard sign-ins (worker/dashboard/session.ts). The cookie holds the session's random id
 * (signed); only its SHA-256 is stored, with the hash of the key that signed in, so a rotated
 * key or a sign-out ends the session at once. Never the key itself.
 */
export const dashboardSessions = sqliteTable(
  "dashboard_sessions",
  {
    idHash: text("id_hash").primaryKey(),
    role: text("role", { enum: ["owner", "provider"] }).notNull(),
    subjectId: text("subject_id").notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    endedAt: integer("ended_at"),
  },
  (t) => [index("dashboard_sessions_expires").on(t.expiresAt)],
);
