/**
 * The world the shared auth suite runs in: two of every role, so every protected route can be
 * tried on an object its caller does not own.
 */
import { OPERATOR, createAccount, createAgentKey, createProvider, createService, credit, postMandate, unique } from "./helpers";

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
    mandateA: (await postMandate(aA.id, aA.ownerKey, mandateTerms())).id,
    spareKeyId: spare.id,
  };
}
