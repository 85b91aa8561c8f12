/**
 * Custom hostnames over real HTTP against `wrangler dev`: the `Host` header is the route (as on
 * Cloudflare), so a claim is tried the way an agent would reach it. A claimed hostname routes
 * nothing while pending (the origin receives nothing, the JSON API answers), and routes once the
 * operator activates it; the gateway's own host (GATEWAY_HOSTS) cannot be claimed.
 */
import { request as httpRequest, createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "./harness.ts";

const GATEWAY_HOST = "gateway.e2e.test";

let gw: Gateway;
let origin: Server;
let originUrl: string;
const seen: string[] = [];

/** One request to the gateway's socket with this `Host` header (fetch cannot set it). */
function viaHost(
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port: Number(port), path, method: "GET", headers: { ...headers, host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  origin = createServer((req, res) => {
    seen.push(req.url ?? "");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ served: req.url }));
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  gw = await startGateway({ vars: { GATEWAY_HOSTS: GATEWAY_HOST } });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await new Promise<void>((r) => (origin ? origin.close(() => r()) : r()));
});

describe("a custom hostname over HTTP", () => {
  it("pending → routes nothing; the operator activates it → routes, charged; the provider cannot activate", async () => {
    const op = gw.operatorToken;
    const provider = (await api("POST", "/v1/providers", op, { name: "hosts" })).body;
    const account = (await api("POST", "/v1/accounts", op, { name: "hosts", currency: "USD" })).body;
    await api("POST", `/v1/accounts/${account.id}/credits`, op, { amount: 1000 });
    const agentKey = (await api("POST", `/v1/accounts/${account.id}/agent-keys`, account.owner_key, { name: "bot" })).body.key;
    const host = `hosts-${Date.now().toString(36)}.example.test`;
    const svc = await api("POST", "/v1/services", provider.api_key, {
      slug: "hosts",
      name: "hosts",
      origin: originUrl,
      hostnames: [host],
      prices: [{ per_call: 25 }],
    });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    expect(svc.body.hostnames).toEqual([
      {
        hostname: host,
        status: "pending",
        verification: { type: "dns_txt", name: `_tollgate-challenge.${host}`, value: expect.any(String) },
        activated_at: null,
      },
    ]);

    // Pending: the Worker answers as the JSON API (no such endpoint); the origin sees nothing.
    const pending = await viaHost(host, "/work?n=1", { authorization: `Bearer ${agentKey}` });
    expect(pending.status).toBe(404);
    expect(pending.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(pending.body)).toMatchObject({ code: "not_found" });
    expect(seen).toEqual([]);

    const byProvider = await api("POST", `/v1/services/${svc.body.id}/hostnames/${host}/activate`, provider.api_key);
    expect(byProvider).toMatchObject({ status: 403, body: { code: "forbidden" } });
    expect((await viaHost(host, "/work", { authorization: `Bearer ${agentKey}` })).status).toBe(404);
    expect(seen).toEqual([]);

    const activated = await api("POST", `/v1/services/${svc.body.id}/hostnames/${host}/activate`, op);
    expect(activated).toMatchObject({ status: 200, body: { hostname: host, status: "active", service_id: svc.body.id } });

    const routed = await viaHost(host, "/work?n=1", { authorization: `Bearer ${agentKey}` });
    expect(routed.status).toBe(200);
    expect(JSON.parse(routed.body)).toEqual({ served: "/work?n=1" });
    expect(routed.headers["tollgate-charge"]).toBe("25");
    expect(seen).toEqual(["/work?n=1"]);
    expect((await api("GET", `/v1/accounts/${account.id}/balance`, op)).body).toMatchObject({ posted: 975, pending: 0 });
  });

  it("the configured gateway host cannot be claimed, and always answers as the gateway", async () => {
    const op = gw.operatorToken;
    const provider = (await api("POST", "/v1/providers", op, { name: "thief" })).body;
    const claim = await api("POST", "/v1/services", provider.api_key, {
      slug: "thief",
      name: "t",
      origin: originUrl,
      hostnames: [GATEWAY_HOST],
      prices: [{ per_call: 1 }],
    });
    expect(claim).toMatchObject({ status: 409, body: { code: "hostname_reserved", hostnames: [GATEWAY_HOST] } });
    const root = await viaHost(GATEWAY_HOST, "/");
    expect(JSON.parse(root.body)).toEqual({ name: "tollgate", docs: "/openapi.json" });
  });
});
