/**
 * Shared by the signing route tests: the request the demo origin's `/echo` received, rebuilt so
 * the SDK can verify it exactly as the origin would have, and SDK options that fetch the JWKS
 * from the gateway under test.
 */
import { expect } from "vitest";
import { MemoryReplayStore, type PlainRequest, type VerifyOptions } from "../../sdk/src/index";
import { call, GATEWAY } from "./helpers";

export const JWKS_URL = `${GATEWAY}/.well-known/http-message-signatures-directory`;

/** The gateway's own JWKS endpoint, reached through the Worker under test (not the network). */
export const gatewayFetch = (url: string) => call(new URL(url).pathname);

/** SDK options for `serviceId`, with a fresh replay store unless one is given. */
export function sdkOptions(serviceId: string, over: Partial<VerifyOptions> = {}): VerifyOptions {
  return { jwksUrl: JWKS_URL, fetch: gatewayFetch, serviceId, replayStore: new MemoryReplayStore(), ...over } as VerifyOptions;
}

export type Echoed = { method: string; path: string; query: string; headers: Record<string, string>; body: string };

/** What `/echo` saw, as the request the origin received. */
export async function received(res: Response): Promise<{ echoed: Echoed; request: PlainRequest }> {
  expect(res.status).toBe(200);
  const echoed = (await res.json()) as Echoed;
  const request = { method: echoed.method, url: `http://${echoed.headers.host}${echoed.path}${echoed.query}`, headers: echoed.headers, body: echoed.body };
  return { echoed, request };
}
