/**
 * A payment scheme for the `@x402/fetch` client that pays Tollgate's `tollgate-prepaid` offers
 * from a prepaid account: the payload is the agent key, and the gateway charges the call exactly
 * like a keyed call. Structurally typed so this SDK keeps no dependency on `@x402/core`.
 *
 *   const client = new x402Client().register("tollgate:*", tollgatePrepaid({ key, currency: "USD" }));
 *   const paidFetch = wrapFetchWithPayment(fetch, client);
 *
 * The client's default spend controls cap one payment at $1 for assets it can price: offers are
 * in micro-units (6 decimals) of the service currency, so a call above 1 USD needs a larger cap
 * in the client's configuration (the key's mandate still bounds what the gateway will charge).
 */

export const TOLLGATE_SCHEME = "tollgate-prepaid";

export type TollgatePrepaidOptions = {
  /** The Tollgate agent key that pays. */
  key: string;
  /** Currencies this scheme will pay in (the account's currency); default ["USD"]. */
  currencies?: string[];
};

type Requirements = { scheme: string; network: string; asset: string; amount: string };

export function tollgatePrepaid(options: TollgatePrepaidOptions) {
  const currencies = new Set(options.currencies ?? ["USD"]);
  return {
    scheme: TOLLGATE_SCHEME,
    findDefaultAsset(asset: string, network: string) {
      if (!network.startsWith("tollgate:") || !currencies.has(asset)) return undefined;
      return { asset, decimals: 6, symbol: asset };
    },
    async createPaymentPayload(x402Version: number, requirements: Requirements) {
      if (requirements.scheme !== TOLLGATE_SCHEME) throw new Error(`tollgate-prepaid cannot pay scheme ${requirements.scheme}`);
      if (!currencies.has(requirements.asset)) throw new Error(`tollgate-prepaid does not pay in ${requirements.asset}`);
      return { x402Version, payload: { key: options.key } };
    },
  };
}
