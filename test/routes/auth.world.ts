/**
 * The world the shared auth suite runs in: two of every role, so every protected route can be
 * tried on an object its caller does not own.
 */
import { OPERATOR, api, createAccount, createAgentKey, createProvider, createService, credit, postMandate, unique } from "./helpers";
import { DB, exportNow, paidCall } from "./ledger-helpers";

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
  /** An agent key of account A whose limits the PATCH route changes and the operator unfreezes. */
  spareKeyId: string;
  /** A charge (capture) of account A of 1000, paid to provider A and exported to D1: the refund routes refund it. */
  chargeA: string;
  /** Another charge of account A, undisputed: the route that opens a dispute opens one on it. */
  undisputedChargeA: string;
  /** Open disputes of account A's charges: one for the provider to answer, one for the operator to resolve. */
  disputeToAnswer: string;
  disputeToResolve: string;
  /** A plan of service A (100 calls for 1), and a pass of it bought by agent A. */
  planA: string;
  passA: string;
};

export const mandateTerms = () => ({ intent: "auth suite", max_total: 10, max_per_call: 1, valid_until: new Date(Date.now() + 3_600_000).toISOString() });

export async function buildWorld(): Promise<World> {
  const [pA, pB, aA, aB] = await Promise.all([createProvider(), createProvider(), createAccount(), createAccount()]);
  await credit(aA.id, 1_000_000);
  const [agA, agB, revocable, spare] = await Promise.all([
    createAgentKey(aA.id, aA.ownerKey),
    createAgentKey(aB.id, aB.ownerKey),
    createAgentKey(aA.id, aA.ownerKey, "revocable"),
    createAgentKey(aA.id, aA.ownerKey, "spare"),
  ]);
  const hostnameA = `${unique("auth")}.example.test`;
  const sA = await createService(pA.key, { prices: [{ per_call: 1 }], hostnames: [hostnameA], plans: [{ name: "auth", price: 1, calls: 100 }] });
  const planA = String(sA.plans[0].id);
  const sB = await createService(pB.key, { prices: [{ per_call: 1 }] });
  const sC = await createService(pA.key, { prices: [{ per_call: 1_000 }] });
  for (let i = 0; i < 4; i++) await paidCall(sC.slug, agA.key);
  await exportNow(aA.id);
  const charges = await DB.prepare("SELECT id FROM transfers WHERE account_id = ? AND kind = 'capture' ORDER BY seq").bind(aA.id).all<{ id: string }>();
  const [chargeA, undisputedChargeA, toAnswer, toResolve] = charges.results.map((r) => r.id);
  const dispute = async (transferId: string | undefined) =>
    (await api(`/v1/accounts/${aA.id}/disputes`, { key: aA.ownerKey, body: { transfer_id: transferId, reason: "defective" } })).body.id as string;
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
    mandateA: (await postMandate(aA.id, aA.ownerKey, mandateTerms())).id,
    spareKeyId: spare.id,
    chargeA: String(chargeA),
    undisputedChargeA: String(undisputedChargeA),
    disputeToAnswer: await dispute(toAnswer),
    disputeToResolve: await dispute(toResolve),
    planA,
    passA: (await api("/v1/passes", { key: agA.key, body: { plan_id: planA } })).body.id as string,
  };
}
