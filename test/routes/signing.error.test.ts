/**
 * When a call cannot be signed it is refused before any money moves: a body over the cap (413,
 * whether declared or streamed), or a gateway without a usable signing key (500).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyTollgateRequest } from "../../sdk/src/index";
import { buildApp } from "../../worker/app";
import type { Env } from "../../worker/env";
import { MAX_REQUEST_BODY } from "../../worker/proxy/body";
import { TEST_KEY_A } from "../signing-keys";
import { api, balance, call, expectProblem, GATEWAY, OPERATOR, payer, type Payer, providerServicePayer, type ServiceRef, transfers } from "./helpers";
import { received, sdkOptions } from "./signing.shared";

const worker = exports as unknown as { default: { fetch(request: Request): Promise<Response> } };

let svc: ServiceRef, p: Payer;
beforeAll(async () => {
  ({ svc, p } = await providerServicePayer({ prices: [{ per_call: 100 }] }, 10_000));
});

async function unchanged(): Promise<void> {
  expect(await balance(p.accountId)).toEqual({ currency: "USD", posted: 10_000, pending: 0, available: 10_000 });
  expect((await transfers(p.accountId)).filter((t) => t.kind !== "credit")).toEqual([]);
}

describe("request bodies are capped at 10 MiB (they are read whole to be signed)", () => {
  it("a declared Content-Length over the cap is 413 payload_too_large, before any reserve", async () => {
    const res = await call(`/s/${svc.slug}/echo`, {
      method: "POST",
      key: p.agentKey,
      body: "x".repeat(MAX_REQUEST_BODY + 1),
      headers: { "content-type": "text/plain" },
    });
    const problem = await expectProblem(res, 413, "payload_too_large");
    expect(problem.max_bytes).toBe(MAX_REQUEST_BODY);
    expect(res.headers.get("tollgate-request-id")).toMatch(/^req_/);
    await unchanged();
  });

  it("a streamed body without Content-Length is stopped at the cap: 413, before any reserve", async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(120);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 11) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const request = new Request(`${GATEWAY}/s/${svc.slug}/echo`, { method: "POST", body, headers: { authorization: `Bearer ${p.agentKey}` } });
    expect(request.headers.get("content-length")).toBeNull();
    await expectProblem(await worker.default.fetch(request), 413, "payload_too_large");
    await unchanged();
  });

  it("a body of exactly the cap is forwarded, digested and verifiable", async () => {
    const big = "0123456789abcdef".repeat(MAX_REQUEST_BODY / 16);
    const res = await call(`/s/${svc.slug}/echo/upload`, { method: "POST", key: p.agentKey, body: big, headers: { "content-type": "text/plain" } });
    const { echoed, request } = await received(res);
    expect(echoed.body.length).toBe(MAX_REQUEST_BODY);
    expect(await verifyTollgateRequest(request, sdkOptions(svc.id))).toMatchObject({ ok: true });
    expect((await balance(p.accountId)).posted).toBe(10_000 - 100);
  });
});

describe("no usable signing key: the proxy refuses, the rest of the API works", () => {
  async function withKeys(keys: string | undefined, path: string, init: RequestInit = {}): Promise<Response> {
    const { SIGNING_KEYS: _, ...rest } = env as unknown as Env;
    const ctx = createExecutionContext();
    const res = await buildApp().fetch(new Request(`${GATEWAY}${path}`, init), keys === undefined ? rest : { ...rest, SIGNING_KEYS: keys }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  it("unset: a proxied call is 500 internal_error and costs nothing", async () => {
    const payerBefore = await payer(500);
    const res = await withKeys(undefined, `/s/${svc.slug}/echo`, { headers: { authorization: `Bearer ${payerBefore.agentKey}` } });
    const problem = await expectProblem(res, 500, "internal_error");
    expect(problem.detail).toMatch(/signing key/);
    expect(await balance(payerBefore.accountId)).toEqual({ currency: "USD", posted: 500, pending: 0, available: 500 });
  });

  it("unset: services still answer (no keyids) and the JWKS is empty", async () => {
    const res = await withKeys(undefined, `/v1/services/${svc.id}`, { headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(res.status).toBe(200);
    expect((await res.json<any>()).verification.keyids).toEqual([]);
    expect(await (await withKeys(undefined, "/.well-known/jwks.json")).json()).toEqual({ keys: [] });
  });

  it("a key whose public half does not match its private half: 500, nothing charged", async () => {
    const payerBefore = await payer(500);
    const mismatched = JSON.stringify([{ ...TEST_KEY_A, x: "SH1j8WAqJuUIiemr_1XHKqWi4XTBGTZCcAmggMo-Y2o" }]);
    const res = await withKeys(mismatched, `/s/${svc.slug}/echo`, { headers: { authorization: `Bearer ${payerBefore.agentKey}` } });
    await expectProblem(res, 500, "internal_error");
    expect((await balance(payerBefore.accountId)).available).toBe(500);
  });

  it("not valid JSON: fails loudly (500) rather than forwarding unsigned", async () => {
    const res = await withKeys("[{not json", `/s/${svc.slug}/echo`, { headers: { authorization: `Bearer ${p.agentKey}` } });
    await expectProblem(res, 500, "internal_error");
  });
});

describe("the well-known routes are not under /v1 auth", () => {
  it("answer without a credential, and ignore a bad one", async () => {
    expect((await api("/.well-known/jwks.json")).status).toBe(200);
    expect((await api("/.well-known/jwks.json", { key: "garbage" })).status).toBe(200);
  });
});
