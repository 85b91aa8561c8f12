import { encodeHeader } from "../../core/x402/headers";
import { b64urlJson, newNonce, signOffer, type OfferClaims } from "../../core/x402/offer";
import type { Signer } from "../proxy/signing-keys";

/** The payment scheme and network a Tollgate offer names: credit from a prepaid Tollgate account. */
export const SCHEME = "tollgate-prepaid";
export const NETWORK = "tollgate:prepaid";
/** The MPP payment method Tollgate offers: the same prepaid credit. */
export const MPP_METHOD = "tollgate";
/** How long a client has to pay an offer. */
export const OFFER_TTL_S = 300;

/** What a challenge offers: this call (method and URL), to this service, for at most `amount`. */
export type OfferTerms = { method: string; url: string; serviceId: string; serviceSlug: string; amount: number; currency: string };

/**
 * The headers of a 402 that both x402 and MPP clients can pay: `PAYMENT-REQUIRED` (x402 v2) and
 * `WWW-Authenticate: Payment` (MPP), carrying one offer signed by the gateway's key, so the
 * client cannot lower its amount or move it to another resource. The amount is the most the call
 * may cost (its hold): a metered call is then charged what it used, never more.
 */
export async function challengeHeaders(terms: OfferTerms, signer: Signer, nowS: number, error?: string): Promise<Record<string, string>> {
  const claims: OfferClaims = {
    kid: signer.kid,
    resource: `${terms.method} ${terms.url}`,
    amount: String(terms.amount),
    currency: terms.currency,
    service: terms.serviceId,
    exp: nowS + OFFER_TTL_S,
    nonce: newNonce(),
  };
  const offer = await signOffer(claims, signer.privateKey);
  const requirement = {
    scheme: SCHEME,
    network: NETWORK,
    asset: terms.currency,
    amount: claims.amount,
    payTo: terms.serviceId,
    maxTimeoutSeconds: OFFER_TTL_S,
    extra: { offer, decimals: 6 },
  };
  const description = `${terms.method} on the Tollgate service '${terms.serviceSlug}', paid from a prepaid Tollgate account`;
  const required = { x402Version: 2, ...(error ? { error } : {}), resource: { url: terms.url, description }, accepts: [requirement] };
  const request = b64urlJson({ amount: claims.amount, currency: terms.currency, recipient: terms.serviceId, offer });
  const params = {
    id: claims.nonce,
    realm: new URL(terms.url).host,
    method: MPP_METHOD,
    intent: "charge",
    request,
    expires: new Date(claims.exp * 1000).toISOString(),
  };
  const mpp = `Payment ${Object.entries(params)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ")}`;
  return { "payment-required": encodeHeader(required), "www-authenticate": mpp, "cache-control": "no-store" };
}
