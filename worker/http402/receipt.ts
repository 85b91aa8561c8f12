import { encodeHeader } from "../../core/x402/headers";
import { b64urlJson } from "../../core/x402/offer";
import { MPP_METHOD, NETWORK } from "./challenge";
import type { PaidRetry } from "./credential";

/**
 * Tells an x402 client (`PAYMENT-RESPONSE`) or an MPP client (`Payment-Receipt`) that its payment
 * was taken. The reference is the call's request id: every transfer of the call (its capture, a
 * refund) carries it, and the capture itself is written once the answer has passed and its real
 * amount is known — after these headers leave.
 */
export function addReceipt(response: Response, paid: PaidRetry, requestId: string, accountId: string): Response {
  if (response.status >= 400) return response;
  const charge = response.headers.get("tollgate-charge");
  if (paid.protocol === "x402") {
    const body = { success: true, transaction: requestId, network: NETWORK, payer: accountId, ...(charge !== null ? { amount: charge } : {}) };
    response.headers.set("payment-response", encodeHeader(body));
  } else {
    const body = { method: MPP_METHOD, reference: requestId, status: "success", timestamp: new Date().toISOString() };
    response.headers.set("payment-receipt", b64urlJson(body));
  }
  return response;
}
