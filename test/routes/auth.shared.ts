/**
 * The one auth suite every protected route runs (Unkey's `testutil/common-tests.ts`): one table
 * of protected routes, and checks for a missing, malformed, truncated or altered credential and
 * for every role that must not reach the route.
 *
 * Wrong-role statuses are what the code does today. A credential used on an object it does
 * not own gets 404, as if the object did not exist; role-only endpoints (operator-only,
 * agent-only) have no object to hide and answer 403, except `GET /v1/me` and the proxy, which answer 401 `invalid_key` to any
 * credential that is not an agent key.
 */
import { expect, it } from "vitest";
import {
  OPERATOR,
  call,
  createAccount,
  createAgentKey,
  createProvider,
  createService,
  credit,
  expectProblem,
  flip,
  unique,
} from "./helpers";

export type Role = "operator" | "providerA" | "providerB" | "ownerA" | "ownerB" | "agentA" | "agentB";

/** Two of everything, so every route can be tried on an object its caller does not own. */
export type World = {
  keys: Record<Role, string>;
  providerA: string;
  providerB: string;
  accountA: string;
  accountB: string;
  serviceA: { id: string; slug: string };
  serviceB: { id: string; slug: string };
  /** A custom hostname service A claims (the operator's activation route activates it). */
  hostnameA: string;
  /** An agent key of account A that the DELETE route may revoke. */
  revocableKeyId: string;
  /** A mandate of account A (the mandate routes read and revoke it). */
  mandateA: string;
};

const mandateTerms = () => ({ intent: "auth suite", max_total: 10, max_per_call: 1, valid_until: new Date(Date.now() + 3_600_000).toISOString() });

async function createMandateA(accountId: string, ownerKey: string): Promise<string> {
  const res = await call(`/v1/accounts/${accountId}/mandates`, { key: ownerKey, body: mandateTerms() });
  expect(res.status).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

export async function buildWorld(): Promise<World> {
  const [pA, pB, aA, aB] = await Promise.all([createProvider(), createProvider(), createAccount(), createAccount()]);
  await credit(aA.id, 1_000_000);
  const [agA, agB, revocable] = await Promise.all([
    createAgentKey(aA.id, aA.ownerKey),
    createAgentKey(aB.id, aB.ownerKey),
    createAgentKey(aA.id, aA.ownerKey, "revocable"),
  ]);
  const hostnameA = `${unique("auth")}.example.test`;
  const sA = await createService(pA.key, { prices: [{ per_call: 1 }], hostnames: [hostnameA] });
  const sB = await createService(pB.key, { prices: [{ per_call: 1 }] });
  return {
    keys: { operator: OPERATOR, providerA: pA.key, providerB: pB.key, ownerA: aA.ownerKey, ownerB: aB.ownerKey, agentA: agA.key, agentB: agB.key },
    providerA: pA.id,
    providerB: pB.id,
    accountA: aA.id,
    accountB: aB.id,
    serviceA: { id: sA.id, slug: sA.slug },
    serviceB: { id: sB.id, slug: sB.slug },
    hostnameA,
    revocableKeyId: revocable.id,
    mandateA: await createMandateA(aA.id, aA.ownerKey),
  };
}

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
  { name: "/v1/accounts/{id}", method: "GET", path: (w) => `/v1/accounts/${w.accountA}`, allowed: "ownerA", ok: 200, alsoAllowed: ["operator"], wrong: notAccountOwner },
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
  { name: "/v1/accounts/{id}/mandates (list)", method: "GET", path: (w) => `/v1/accounts/${w.accountA}/mandates`, allowed: "ownerA", ok: 200, alsoAllowed: ["operator"], wrong: notAccountOwner },
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
  { name: "/v1/services (list)", method: "GET", path: () => "/v1/services", allowed: "providerA", ok: 200, alsoAllowed: ["operator"], wrong: { ownerA: 403, agentA: 403 } },
  { name: "/v1/services/{id}", method: "GET", path: (w) => `/v1/services/${w.serviceA.id}`, allowed: "providerA", ok: 200, alsoAllowed: ["operator"], wrong: notServiceOwner },
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
  { name: "/v1/me", method: "GET", path: () => "/v1/me", allowed: "agentA", ok: 200, wrong: notAgent },
  { name: "/s/{slug}/{path} (proxy)", method: "GET", path: (w) => `/s/${w.serviceA.slug}/echo/auth`, allowed: "agentA", ok: 200, wrong: notAgent },
  // Finance: usage reports, the general ledger, the reconciler, the audit trail.
  { name: "/v1/accounts/{id}/usage", method: "GET", path: (w) => `/v1/accounts/${w.accountA}/usage`, allowed: "ownerA", ok: 200, alsoAllowed: ["operator"], wrong: notAccountOwner },
  { name: "/v1/services/{id}/usage", method: "GET", path: (w) => `/v1/services/${w.serviceA.id}/usage`, allowed: "providerA", ok: 200, alsoAllowed: ["operator"], wrong: notServiceOwner },
  // Each caller sees its own slice (scoping: ledger.security.test.ts); agents have none.
  { name: "/v1/ledger/entries", method: "GET", path: () => "/v1/ledger/entries", allowed: "ownerA", ok: 200, alsoAllowed: ["operator", "providerA"], wrong: { agentA: 403 } },
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
  { name: "/v1/accounts/{id}/audit", method: "GET", path: (w) => `/v1/accounts/${w.accountA}/audit`, allowed: "ownerA", ok: 200, alsoAllowed: ["operator"], wrong: notAccountOwner },
  {
    name: "/v1/accounts/{id}/audit/verify",
    method: "GET",
    path: (w) => `/v1/accounts/${w.accountA}/audit/verify`,
    allowed: "ownerA",
    ok: 200,
    alsoAllowed: ["operator"],
    wrong: notAccountOwner,
  },
];

/** The same key with one character of its object id changed (it then names another object). */
function flipId(key: string): string {
  return key.startsWith("tg_") ? flip(key, key.indexOf("_", 3) + 3) : flip(key, 3);
}

const CODE_OF: Record<number, string> = { 401: "invalid_key", 403: "forbidden", 404: "not_found" };

/** Runs the shared auth checks for one route; `world` is read when the tests run. */
export function authSuite(route: ProtectedRoute, world: () => World): void {
  const send = (key: string | null, headers: Record<string, string> = {}) => {
    const w = world();
    return call(route.path(w), { method: route.method, key, headers, body: route.body?.(w) });
  };
  const good = () => world().keys[route.allowed];

  it("without a credential → 401 unauthorized", async () => {
    await expectProblem(await send(null), 401, "unauthorized");
  });

  it("with a non-Bearer Authorization → 401 unauthorized", async () => {
    await expectProblem(await send(null, { authorization: `Basic ${btoa(`user:${good()}`)}` }), 401, "unauthorized");
  });

  it("with a garbage key → 401 invalid_key", async () => {
    await expectProblem(await send("not-a-tollgate-key"), 401, "invalid_key");
  });

  it("with the right key truncated by one character → 401 invalid_key", async () => {
    await expectProblem(await send(good().slice(0, -1)), 401, "invalid_key");
  });

  it("with one character of the secret changed → 401 invalid_key", async () => {
    await expectProblem(await send(flip(good())), 401, "invalid_key");
  });

  it("with one character of the key's object id changed → 401 invalid_key", async () => {
    await expectProblem(await send(flipId(good())), 401, "invalid_key");
  });

  it(`with the ${route.allowed} credential → ${route.ok}`, async () => {
    const res = await send(good());
    expect(res.status, await res.clone().text()).toBe(route.ok);
    await res.body?.cancel();
  });

  for (const role of route.alsoAllowed ?? []) {
    it(`with the ${role} credential → ${route.ok}`, async () => {
      const res = await send(world().keys[role]);
      expect(res.status, await res.clone().text()).toBe(route.ok);
      await res.body?.cancel();
    });
  }

  for (const [role, status] of Object.entries(route.wrong)) {
    it(`with the ${role} credential → ${status}`, async () => {
      await expectProblem(await send(world().keys[role as Role]), status, CODE_OF[status]);
    });
  }
}
