/**
 * The table of protected routes the shared auth suite runs (auth.shared.ts): for each, the
 * credential it is for and what every other role gets. auth.security.test.ts checks the table
 * against /openapi.json in both directions.
 */
import { unique } from "./helpers";
import { mandateTerms, type Role, type World } from "./auth.world";

/** A priced proxied call without a credential is offered its price (docs/HTTP-402.md). */
const unpaid = { status: 402, code: "payment_required" };

export type ProtectedRoute = {
  name: string;
  method: string;
  path: (w: World) => string;
  body?: (w: World) => unknown;
  /** The credential the route is for; it gets `ok`. */
  allowed: Role;
  ok: number;
  /** Other roles that may also call it (the operator reaches everything). */
  alsoAllowed?: Role[];
  /** Every role that must not reach the route, and what it gets instead. */
  wrong: Partial<Record<Role, number>>;
  /** What a request without a credential gets, when not 401 `unauthorized` (the proxy offers a price). */
  missing?: { status: number; code: string };
  /** Request headers the route needs besides the credential (e.g. MCP's Accept). */
  headers?: Record<string, string>;
};

const notAccountOwner = { ownerB: 404, providerA: 404, agentA: 404, agentB: 404 } as const;
const notOperator = { providerA: 403, ownerA: 403, agentA: 403 } as const;
const notServiceOwner = { providerB: 404, ownerA: 404, agentA: 404 } as const;
const notAgent = { operator: 401, providerA: 401, ownerA: 401 } as const;

export const PROTECTED_ROUTES: ProtectedRoute[] = [
  { name: "/v1/providers", method: "POST", path: () => "/v1/providers", body: () => ({ name: unique("p") }), allowed: "operator", ok: 201, wrong: notOperator },
  {
    name: "/v1/accounts",
    method: "POST",
    path: () => "/v1/accounts",
    body: () => ({ name: unique("a"), currency: "USD" }),
    allowed: "operator",
    ok: 201,
    wrong: notOperator,
  },
  {
    name: "/v1/accounts/{id}",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}",
    method: "PATCH",
    path: (w) => `/v1/accounts/${w.accountA}`,
    // 1: the shared world's account stays plain (a hot account is tested in hot-accounts.test.ts).
    body: () => ({ shards: 1 }),
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/credits",
    method: "POST",
    path: (w) => `/v1/accounts/${w.accountA}/credits`,
    body: () => ({ amount: 1 }),
    allowed: "operator",
    ok: 201,
    // Operator-only: the account's own owner is refused too, with 403 (see the report on 404 vs 403).
    wrong: { ...notOperator, ownerB: 403 },
  },
  {
    name: "/v1/accounts/{id}/balance",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/balance`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/transfers",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/transfers`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/agent-keys (issue)",
    method: "POST",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys`,
    body: () => ({ name: "k" }),
    allowed: "ownerA",
    ok: 201,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/agent-keys (list)",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/agent-keys/{key_id}",
    method: "DELETE",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys/${w.revocableKeyId}`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/mandates (create)",
    method: "POST",
    path: (w) => `/v1/accounts/${w.accountA}/mandates`,
    body: () => mandateTerms(),
    allowed: "ownerA",
    ok: 201,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/mandates (list)",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/mandates`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/mandates/{mandate_id}",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/mandates/${w.mandateA}`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/agent-keys/{key_id} (limits)",
    method: "PATCH",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys/${w.spareKeyId}`,
    body: () => ({ max_calls_per_minute: 1000 }),
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    // Operator-only (a kill switch): the account's own owner is refused too, with 403. Unfreezing
    // a key that is not frozen changes nothing, so the suite leaves the world as it found it.
    name: "/v1/accounts/{id}/agent-keys/{key_id}/frozen",
    method: "PUT",
    path: (w) => `/v1/accounts/${w.accountA}/agent-keys/${w.spareKeyId}/frozen`,
    body: () => ({ frozen: false }),
    allowed: "operator",
    ok: 200,
    wrong: { ...notOperator, ownerB: 403 },
  },
  {
    // Operator-only, like the key's kill switch; unfreezing keeps account A usable for the other rows.
    name: "/v1/accounts/{id}/frozen",
    method: "PUT",
    path: (w) => `/v1/accounts/${w.accountA}/frozen`,
    body: () => ({ frozen: false }),
    allowed: "operator",
    ok: 200,
    wrong: { ...notOperator, ownerB: 403 },
  },
  {
    // Revoking is idempotent: every allowed role gets 200, the first revokes.
    name: "/v1/accounts/{id}/mandates/{mandate_id} (revoke)",
    method: "DELETE",
    path: (w) => `/v1/accounts/${w.accountA}/mandates/${w.mandateA}`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/services (create)",
    method: "POST",
    path: () => "/v1/services",
    body: () => ({ slug: unique("auth"), name: "n", origin: "https://example.com", prices: [{ per_call: 1 }] }),
    allowed: "providerA",
    ok: 201,
    wrong: { ownerA: 403, agentA: 403 },
  },
  {
    name: "/v1/services (list)",
    method: "GET",
    path: () => "/v1/services",
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: { ownerA: 403, agentA: 403 },
  },
  {
    name: "/v1/services/{id}",
    method: "GET",
    path: (w) => `/v1/services/${w.serviceA.id}`,
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notServiceOwner,
  },
  {
    name: "/v1/services/{id} (patch)",
    method: "PATCH",
    path: (w) => `/v1/services/${w.serviceA.id}`,
    body: () => ({ name: "renamed" }),
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notServiceOwner,
  },
  {
    // Operator-only: even the service's own provider is refused (403): it cannot approve its own claim.
    name: "/v1/services/{id}/hostnames/{hostname}/activate",
    method: "POST",
    path: (w) => `/v1/services/${w.serviceA.id}/hostnames/${w.hostnameA}/activate`,
    allowed: "operator",
    ok: 200,
    wrong: { ...notOperator, providerB: 403 },
  },
  {
    name: "/v1/services/{id}/transfers",
    method: "GET",
    path: (w) => `/v1/services/${w.serviceA.id}/transfers`,
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notServiceOwner,
  },
  {
    name: "/v1/services/{id}/uncollected",
    method: "GET",
    path: (w) => `/v1/services/${w.serviceA.id}/uncollected`,
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notServiceOwner,
  },
  {
    name: "/v1/usage",
    method: "POST",
    path: () => "/v1/usage",
    body: (w) => ({ request_id: `req_${w.accountA.slice(5)}_${"0".repeat(20)}`, units: 1 }),
    allowed: "providerA",
    // Past auth, an unknown request id is 404: proof the provider key reached the handler.
    ok: 404,
    // Provider-only: even the operator is refused (403), unlike every other route.
    wrong: { operator: 403, ownerA: 403, agentA: 403 },
  },
  {
    name: "/v1/refunds",
    method: "POST",
    path: () => "/v1/refunds",
    body: (w) => ({ transfer_id: w.chargeA, amount: 1 }),
    allowed: "providerA",
    ok: 201,
    alsoAllowed: ["operator"],
    // Another provider cannot tell the charge exists.
    wrong: { providerB: 404, ownerA: 403, agentA: 403 },
  },
  {
    name: "/v1/refunds (list)",
    method: "GET",
    path: () => "/v1/refunds",
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: { ownerA: 403, agentA: 403 },
  },
  {
    name: "/v1/accounts/{id}/disputes",
    method: "POST",
    path: (w) => `/v1/accounts/${w.accountA}/disputes`,
    body: (w) => ({ transfer_id: w.undisputedChargeA, reason: "not_delivered" }),
    allowed: "ownerA",
    ok: 201,
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/disputes (list)",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/disputes`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/disputes",
    method: "GET",
    path: () => "/v1/disputes",
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: { ownerA: 403, agentA: 403 },
  },
  {
    name: "/v1/disputes/{id}/respond",
    method: "POST",
    path: (w) => `/v1/disputes/${w.disputeToAnswer}/respond`,
    body: () => ({ accept: false, evidence: "delivered in full" }),
    allowed: "providerA",
    ok: 200,
    // Another provider cannot tell the dispute exists.
    wrong: { providerB: 404, ownerA: 403, agentA: 403 },
  },
  {
    name: "/v1/disputes/{id}/resolve",
    method: "POST",
    path: (w) => `/v1/disputes/${w.disputeToResolve}/resolve`,
    body: () => ({ winner: "provider" }),
    allowed: "operator",
    ok: 200,
    wrong: notOperator,
  },
  {
    name: "/v1/tips",
    method: "POST",
    path: () => "/v1/tips",
    body: (w) => ({ service_id: w.serviceA.id, amount: 1 }),
    allowed: "agentA",
    ok: 201,
    alsoAllowed: ["ownerA"],
    // Tips come from an account: a provider or the operator is refused.
    wrong: { operator: 403, providerA: 403 },
  },
  // A provider's money: the provider itself or the operator; anyone else cannot tell it exists.
  {
    name: "/v1/providers/{id}/balance",
    method: "GET",
    path: (w) => `/v1/providers/${w.providerA}/balance`,
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notServiceOwner,
  },
  {
    name: "/v1/providers/{id}/payouts (list)",
    method: "GET",
    path: (w) => `/v1/providers/${w.providerA}/payouts`,
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notServiceOwner,
  },
  {
    name: "/v1/providers/{id}/payouts",
    method: "POST",
    path: (w) => `/v1/providers/${w.providerA}/payouts`,
    body: () => ({ amount: 1, currency: "USD" }),
    allowed: "operator",
    // Past auth, provider A's earnings are still pending (PAYOUT_DELAY_S), so nothing is paid:
    // 422 insufficient_provider_funds is proof the operator reached the handler.
    ok: 422,
    // Operator-only: the provider itself is refused too, with 403.
    wrong: { ...notOperator, providerB: 403 },
  },
  {
    name: "/v1/passes",
    method: "POST",
    path: () => "/v1/passes",
    body: (w) => ({ plan_id: w.planA }),
    allowed: "agentA",
    ok: 201,
    alsoAllowed: ["ownerA"],
    wrong: { providerA: 403, operator: 403 },
  },
  {
    name: "/v1/accounts/{id}/passes",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/passes`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/passes/{id}",
    method: "DELETE",
    path: (w) => `/v1/passes/${w.passA}`,
    allowed: "agentA",
    ok: 200,
    alsoAllowed: ["ownerA"],
    // Another account's keys cannot tell the pass exists; providers and the operator do not hold passes.
    wrong: { agentB: 404, ownerB: 404, providerA: 403, operator: 403 },
  },
  { name: "/v1/me", method: "GET", path: () => "/v1/me", allowed: "agentA", ok: 200, wrong: notAgent },
  {
    name: "/mcp",
    method: "POST",
    path: () => "/mcp",
    body: () => ({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    headers: { accept: "application/json, text/event-stream" },
    allowed: "agentA",
    ok: 200,
    wrong: notAgent,
  },
  {
    name: "/s/{slug}/{path} (proxy)",
    method: "GET",
    path: (w) => `/s/${w.serviceA.slug}/echo/auth`,
    allowed: "agentA",
    ok: 200,
    wrong: notAgent,
    missing: unpaid,
  },
  // The proxy forwards every method /openapi.json documents; each is a paid call for an agent key only.
  // No body: the JSON API's bodies are what the fuzz tests (fuzz.shared.ts) generate junk for, and this is not one.
  ...(["POST", "PUT", "PATCH", "DELETE"] as const).map(
    (method): ProtectedRoute => ({
      name: "/s/{slug}/{path} (proxy)",
      method,
      path: (w) => `/s/${w.serviceA.slug}/echo/auth`,
      allowed: "agentA",
      ok: 200,
      wrong: notAgent,
      missing: unpaid,
    }),
  ),
  // Finance: usage reports, the general ledger, the reconciler, the audit trail.
  {
    name: "/v1/accounts/{id}/usage",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/usage`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/services/{id}/usage",
    method: "GET",
    path: (w) => `/v1/services/${w.serviceA.id}/usage`,
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notServiceOwner,
  },
  // Each caller sees its own slice (scoping: ledger.security.test.ts); agents have none.
  {
    name: "/v1/ledger/entries",
    method: "GET",
    path: () => "/v1/ledger/entries",
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator", "providerA"],
    wrong: { agentA: 403 },
  },
  { name: "/v1/reconciliation", method: "GET", path: (w) => `/v1/reconciliation?account_id=${w.accountA}`, allowed: "operator", ok: 200, wrong: notOperator },
  {
    name: "/v1/reconciliation/repairs",
    method: "POST",
    path: () => "/v1/reconciliation/repairs",
    body: (w) => ({ account_id: w.accountA }),
    allowed: "operator",
    ok: 200,
    wrong: notOperator,
  },
  {
    name: "/v1/accounts/{id}/audit",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/audit`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  {
    name: "/v1/accounts/{id}/audit/verify",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/audit/verify`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
  // Monthly documents: a provider's statement, an account's invoice.
  {
    name: "/v1/providers/{id}/statements/{month}",
    method: "GET",
    path: (w) => `/v1/providers/${w.providerA}/statements/2026-01`,
    allowed: "providerA",
    ok: 200,
    alsoAllowed: ["operator"],
    // Another provider, an owner or an agent cannot tell the provider exists.
    wrong: notServiceOwner,
  },
  {
    name: "/v1/accounts/{id}/invoices/{month}",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/invoices/2026-01`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
];

/** The documented route a row names: its method and path template (the name up to any " (…)"). */
export function documentedAs(route: ProtectedRoute): string {
  return `${route.method.toLowerCase()} ${route.name.split(" (")[0]}`;
}
