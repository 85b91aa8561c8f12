/**
 * The fuzzed endpoints: each JSON endpoint /openapi.json lists, with a credential and a valid body
 * for each, grouped by route family (one test file per family; fuzz.table.error.test.ts checks
 * that together they cover exactly what /openapi.json documents).
 */
import type { Role, World } from "./auth.shared";
import { originUrl, unique } from "./helpers";

export type Endpoint = { role: Role; path: (w: World) => string; valid: (w: World) => Record<string, unknown> };

/** Providers, accounts, their agent keys and mandates, and signup. */
export const ACCOUNT_ENDPOINTS: Record<string, Endpoint> = {
  "post /v1/providers": { role: "operator", path: () => "/v1/providers", valid: () => ({ name: "fuzz" }) },
  "post /v1/accounts": { role: "operator", path: () => "/v1/accounts", valid: () => ({ name: "fuzz", currency: "USD" }) },
  "patch /v1/accounts/{id}": { role: "ownerA", path: (w) => `/v1/accounts/${w.accountA}`, valid: () => ({ shards: 1 }) },
  "post /v1/accounts/{id}/credits": { role: "operator", path: (w) => `/v1/accounts/${w.accountA}/credits`, valid: () => ({ amount: 1, reference: "fuzz" }) },
  "post /v1/accounts/{id}/agent-keys": {
    role: "ownerA",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys`,
    valid: () => ({ name: "fuzz", max_calls_per_minute: 5 }),
  },
  "patch /v1/accounts/{id}/agent-keys/{key_id}": {
    role: "ownerA",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys/${w.revocableKeyId}`,
    valid: () => ({ max_calls_per_minute: 5, max_spend_per_minute: 100 }),
  },
  "put /v1/accounts/{id}/agent-keys/{key_id}/frozen": {
    role: "operator",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys/${w.revocableKeyId}/frozen`,
    valid: () => ({ frozen: true }),
  },
  "put /v1/accounts/{id}/frozen": { role: "operator", path: (w) => `/v1/accounts/${w.accountA}/frozen`, valid: () => ({ frozen: true }) },
  "post /v1/accounts/{id}/mandates": {
    role: "ownerA",
    path: (w) => `/v1/accounts/${w.accountA}/mandates`,
    valid: () => ({ intent: "fuzz", max_total: 10, max_per_call: 1, valid_until: "2099-12-31T23:59:59Z", services: ["svc-a"], tags: { team: "fuzz" } }),
  },
  // Public (no credential needed; the operator's key is ignored). Validation answers before the
  // route, so junk is refused whether or not OPEN_SIGNUP opens it (here it does not).
  "post /v1/signup": { role: "operator", path: () => "/v1/signup", valid: () => ({ name: "fuzz", email: "fuzz@fuzz.example" }) },
};

/** Services, their plans (passes) and reported usage. */
export const SERVICE_ENDPOINTS: Record<string, Endpoint> = {
  "post /v1/services": {
    role: "providerA",
    path: () => "/v1/services",
    valid: () => ({
      slug: unique("fuzz"),
      name: "Fuzz",
      origin: originUrl(),
      prices: [{ per_call: 1 }],
      timeout_ms: 1_000,
      plans: [{ name: "Fuzz pass", price: 10, duration_s: 3_600, calls: 5, match: { method: "GET", path: "/v1/*" }, pass_only: true }],
    }),
  },
  "patch /v1/services/{id}": {
    role: "providerA",
    path: (w) => `/v1/services/${w.serviceA.id}`,
    valid: () => ({ name: "renamed", timeout_ms: 2_000, plans: [{ name: "Fuzz pass", price: 10, calls: 5 }] }),
  },
  "post /v1/passes": { role: "agentA", path: () => "/v1/passes", valid: (w) => ({ plan_id: w.planA, auto_renew: false }) },
  "post /v1/usage": { role: "providerA", path: () => "/v1/usage", valid: (w) => ({ request_id: `req_${w.accountA.slice(5)}_${"0".repeat(20)}`, units: 1 }) },
};

/** Money moved after the fact: refunds, tips, disputes, payouts and reconciliation repairs. */
export const MONEY_ENDPOINTS: Record<string, Endpoint> = {
  "post /v1/reconciliation/repairs": { role: "operator", path: () => "/v1/reconciliation/repairs", valid: (w) => ({ account_id: w.accountA }) },
  "post /v1/refunds": { role: "providerA", path: () => "/v1/refunds", valid: (w) => ({ transfer_id: w.chargeA, amount: 1, reason: "fuzz" }) },
  "post /v1/tips": { role: "agentA", path: () => "/v1/tips", valid: (w) => ({ service_id: w.serviceA.id, amount: 1, message: "fuzz" }) },
  "post /v1/accounts/{id}/disputes": {
    role: "ownerA",
    path: (w) => `/v1/accounts/${w.accountA}/disputes`,
    valid: (w) => ({ transfer_id: w.undisputedChargeA, reason: "defective", detail: "fuzz" }),
  },
  "post /v1/disputes/{id}/respond": {
    role: "providerA",
    path: (w) => `/v1/disputes/${w.disputeToAnswer}/respond`,
    valid: () => ({ accept: false, evidence: "fuzz" }),
  },
  "post /v1/disputes/{id}/resolve": { role: "operator", path: (w) => `/v1/disputes/${w.disputeToResolve}/resolve`, valid: () => ({ winner: "payer" }) },
  "post /v1/providers/{id}/payouts": {
    role: "operator",
    path: (w) => `/v1/providers/${w.providerA}/payouts`,
    valid: () => ({ amount: 1, currency: "USD", reference: "fuzz" }),
  },
};

export const ENDPOINTS: Record<string, Endpoint> = { ...ACCOUNT_ENDPOINTS, ...SERVICE_ENDPOINTS, ...MONEY_ENDPOINTS };
