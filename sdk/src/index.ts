/**
 * @tollgate/sdk — verify that a request reached your origin through Tollgate, paid.
 *
 *   const result = await verifyTollgateRequest(request, { jwksUrl, serviceId });
 *   if (!result.ok) return new Response(result.error.message, { status: result.error.status });
 *   result.requestId; result.charge.hold;
 *
 * WebCrypto only: Node ≥ 20, Cloudflare Workers, Deno, Bun.
 */
export { verifyTollgateRequest, REQUIRED_COMPONENTS, SIGNATURE_LABEL } from "./verify.js";
export type { ChargeContext, VerifiedRequest, VerifyOptions, VerifyResult } from "./verify.js";
export { TollgateVerificationError } from "./errors.js";
export type { VerificationErrorCode } from "./errors.js";
export { MemoryReplayStore } from "./replay.js";
export type { ReplayStore } from "./replay.js";
export { fromNodeRequest } from "./message.js";
export type { NodeRequestLike, PlainRequest, VerifiableRequest } from "./message.js";
export type { FetchLike, Jwk, Jwks } from "./keys.js";
export { TOLLGATE_SCHEME, tollgatePrepaid } from "./x402.js";
export type { TollgatePrepaidOptions } from "./x402.js";
export { createTollgateClient, TollgateCallError, TollgatePaymentError } from "./agent.js";
export type { AgentFetch, TollgateCallInit, TollgateCallResult, TollgateClient, TollgateClientOptions, TollgateProblem } from "./agent.js";
