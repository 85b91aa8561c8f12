/** Reading a 402's offers and answering them as an x402 or an MPP client would. */
import { expect } from "vitest";
import { decodeHeader, encodeHeader } from "../../core/x402/headers";
import { b64urlJson, fromB64urlJson } from "../../core/x402/offer";

export type Requirement = {
  scheme: string;
  network: string;
  asset: string;
  amount: string;
  payTo: string;
  maxTimeoutSeconds: number;
  extra: { offer: string; decimals: number };
};

/** The x402 `PAYMENT-REQUIRED` header of a 402, decoded, with its one requirement. */
export function x402Offer(res: Response): { doc: any; requirement: Requirement } {
  const doc = decodeHeader(res.headers.get("payment-required")) as any;
  expect(doc, "PAYMENT-REQUIRED").toBeTruthy();
  expect(doc.x402Version).toBe(2);
  expect(doc.accepts).toHaveLength(1);
  return { doc, requirement: doc.accepts[0] };
}

/** The MPP `WWW-Authenticate: Payment` challenge's parameters, and its request decoded. */
export function mppChallenge(res: Response): { params: Record<string, string>; request: any } {
  const header = res.headers.get("www-authenticate") ?? "";
  expect(header).toMatch(/^Payment /);
  const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
  return { params, request: fromB64urlJson(params.request ?? "") };
}

/** The headers of an x402 paid retry: `requirement` as accepted (possibly altered by the test), paid with `key`. */
export function x402Payment(requirement: Requirement, key: string): Record<string, string> {
  return { "payment-signature": encodeHeader({ x402Version: 2, accepted: requirement, payload: { key } }) };
}

/** The headers of an MPP paid retry answering `params` with `key`. */
export function mppPayment(params: Record<string, string>, key: string): Record<string, string> {
  return { authorization: `Payment ${b64urlJson({ challenge: params, payload: { key } })}` };
}
