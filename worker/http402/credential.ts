import { decodeHeader } from "../../core/x402/headers";
import { fromB64urlJson, verifyOffer, type OfferClaims } from "../../core/x402/offer";
import { ApiError } from "../errors";
import { MPP_METHOD, NETWORK, SCHEME } from "./challenge";

/**
 * A retry that pays a 402: the agent key it pays with, and the offer it accepts, from either
 * x402's `PAYMENT-SIGNATURE` or MPP's `Authorization: Payment`. What the client says it accepts
 * must be what the signed offer says, word for word: a lowered amount, another currency or
 * payee is an altered offer.
 */
export type PaidRetry = { protocol: "x402" | "mpp"; key: string; offer: string; accepted: { amount: string; currency: string; payTo: string; id?: string } };

const invalid = (detail: string) => new ApiError("payment_invalid", detail);

/** The paid retry a request carries, null when it carries none; malformed → 402 `payment_invalid`. */
export function readPaidRetry(headers: Headers): PaidRetry | null {
  const x402 = headers.get("payment-signature");
  if (x402 !== null) return fromX402(decodeHeader(x402));
  const auth = headers.get("authorization");
  const mpp = auth ? /^Payment\s+(.*)$/i.exec(auth) : null;
  if (mpp) return fromMpp(fromB64urlJson((mpp[1] as string).trim()));
  return null;
}

function fromX402(doc: unknown): PaidRetry {
  const d = record(doc);
  if (d?.x402Version !== 2) throw invalid("PAYMENT-SIGNATURE: base64 JSON of an x402 version 2 payment payload.");
  const accepted = record(d?.accepted);
  const payload = record(d?.payload);
  const extra = record(accepted?.extra);
  if (!accepted || accepted.scheme !== SCHEME || accepted.network !== NETWORK)
    throw invalid(`PAYMENT-SIGNATURE: accepted must be a '${SCHEME}' offer on '${NETWORK}'.`);
  if (typeof payload?.key !== "string" || typeof extra?.offer !== "string")
    throw invalid("PAYMENT-SIGNATURE: payload.key (the agent key) and accepted.extra.offer are required.");
  const { amount, asset, payTo } = accepted;
  if (typeof amount !== "string" || typeof asset !== "string" || typeof payTo !== "string")
    throw invalid("PAYMENT-SIGNATURE: accepted.amount, asset and payTo are required.");
  return { protocol: "x402", key: payload.key, offer: extra.offer, accepted: { amount, currency: asset, payTo } };
}

function fromMpp(doc: unknown): PaidRetry {
  const d = record(doc);
  const challenge = record(d?.challenge);
  const payload = record(d?.payload);
  if (!challenge || challenge.method !== MPP_METHOD || typeof challenge.request !== "string" || typeof challenge.id !== "string") {
    throw invalid(`Authorization: Payment must carry base64url JSON {challenge, payload} answering a '${MPP_METHOD}' challenge.`);
  }
  const request = record(fromB64urlJson(challenge.request));
  if (typeof payload?.key !== "string" || typeof request?.offer !== "string")
    throw invalid("Authorization: Payment: payload.key (the agent key) and the challenge's request are required.");
  const { amount, currency, recipient } = request;
  if (typeof amount !== "string" || typeof currency !== "string" || typeof recipient !== "string")
    throw invalid("Authorization: Payment: the challenge's request is altered.");
  return { protocol: "mpp", key: payload.key, offer: request.offer, accepted: { amount, currency, payTo: recipient, id: challenge.id } };
}

/** What the gateway asks of this call now: the resource, its service and the most it may cost. */
export type CallTerms = { method: string; url: string; serviceId: string; amount: number; currency: string };

/**
 * The offer's claims, once its signature, expiry and every term check: the same resource and
 * service, the client's copy unchanged, and a price that still fits (a price raised since the
 * offer needs a new one). Throws 402 `payment_invalid` otherwise.
 */
export async function acceptedOffer(paid: PaidRetry, terms: CallTerms, keys: Map<string, CryptoKey>, nowS: number): Promise<OfferClaims> {
  const checked = await verifyOffer(paid.offer, keys, nowS);
  if (!checked.ok) throw invalid(checked.reason);
  const { claims } = checked;
  const { accepted } = paid;
  if (accepted.amount !== claims.amount || accepted.currency !== claims.currency || accepted.payTo !== claims.service) {
    throw invalid("The accepted terms differ from the signed offer.");
  }
  if (accepted.id !== undefined && accepted.id !== claims.nonce) throw invalid("The challenge id differs from the signed offer.");
  if (claims.resource !== `${terms.method} ${terms.url}` || claims.service !== terms.serviceId) throw invalid("The offer is for another resource.");
  if (claims.currency !== terms.currency || Number(claims.amount) < terms.amount) throw invalid("The price changed since the offer: pay the new one.");
  return claims;
}

function record(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
