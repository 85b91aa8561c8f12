/**
 * Tollgate's request signatures, end to end over real HTTP (`wrangler dev` → Node origins):
 * - cross-checked with an independent RFC 9421 implementation (`http-message-signatures`, which
 *   needs Node's crypto, hence this Node suite) against the gateway's published JWKS, for both
 *   keys of a rotation;
 * - the SDK's Node `http` and Express example origins serve a paid call and refuse unsigned,
 *   tampered, replayed and other-service requests.
 */
import { createHash, createPublicKey, type JsonWebKey } from "node:crypto";
import { createServer, request as httpRequest, type IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createVerifier, httpbis } from "http-message-signatures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrigin as createExpressOrigin } from "../../sdk/examples/express.ts";
import { createOrigin as createNodeOrigin } from "../../sdk/examples/node-http.ts";
import { TEST_KEY_A, TEST_KEY_B } from "../signing-keys.ts";
import { jsonClient, startGateway, type Gateway, type JsonResponse } from "./harness.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Recorded = { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer };

const JWKS_PATH = "/.well-known/http-message-signatures-directory";
const COVERED = ["@method", "@authority", "@path", "@query", "tollgate-request-id", "tollgate-charge-context"];

let gw: Gateway;
/** The same gateway code, mid-rotation the other way round: test-b signs, test-a is still published. */
let rotated: Gateway;
let recorder: { server: Server; url: string; seen: Recorded[] };
const servers: { close(): void }[] = [];

/** An origin that records every request exactly as it arrived, and answers 200. */
async function startRecorder(): Promise<typeof recorder> {
  const seen: Recorded[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({ method: req.method ?? "", url: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

beforeAll(async () => {
  [gw, rotated, recorder] = await Promise.all([
    startGateway({ vars: { SIGNING_KEYS: JSON.stringify([TEST_KEY_A, TEST_KEY_B]) } }),
    startGateway({ vars: { SIGNING_KEYS: JSON.stringify([TEST_KEY_B, TEST_KEY_A]) } }),
    startRecorder(),
  ]);
});

afterAll(async () => {
  for (const s of servers) s.close();
  recorder?.server.closeAllConnections();
  recorder?.server.close();
  await Promise.all([gw?.stop(), rotated?.stop()]);
});

function api(g: Gateway, method: string, path: string, token: string | null, body?: unknown): Promise<JsonResponse> {
  return jsonClient(g)(method, path, token, body);
}

/** A provider, a service at `origin`, and an agent key with funds, on gateway `g`. */
async function setup(g: Gateway, origin: string, slug: string): Promise<{ service: Json; agentKey: string }> {
  const prov = await api(g, "POST", "/v1/providers", g.operatorToken, { name: `p-${slug}` });
  const service = await api(g, "POST", "/v1/services", prov.body.api_key, { slug, name: slug, origin, prices: [{ per_call: 10 }] });
  expect(service.status, JSON.stringify(service.body)).toBe(201);
  const acct = await api(g, "POST", "/v1/accounts", g.operatorToken, { name: `a-${slug}`, currency: "USD" });
  await api(g, "POST", `/v1/accounts/${acct.body.id}/credits`, g.operatorToken, { amount: 1_000_000 });
  const key = await api(g, "POST", `/v1/accounts/${acct.body.id}/agent-keys`, acct.body.owner_key, { name: "bot" });
  return { service: service.body, agentKey: key.body.key };
}

/** Verifies a recorded request with http-message-signatures and the JWKS published by `g`. */
async function thirdPartyVerify(g: Gateway, r: Recorded): Promise<boolean | null> {
  const jwks = (await api(g, "GET", JWKS_PATH, null)).body as { keys: (JsonWebKey & { kid: string })[] };
  return httpbis.verifyMessage(
    {
      keyLookup: async (params) => {
        const jwk = jwks.keys.find((k) => k.kid === params.keyid);
        if (!jwk) return null;
        return { id: jwk.kid, algs: ["ed25519"], verify: createVerifier(createPublicKey({ key: jwk, format: "jwk" }), "ed25519") };
      },
      requiredFields: COVERED,
      requiredParams: ["created", "expires", "nonce", "keyid"],
      maxAge: 120,
    },
    { method: r.method, url: `http://${r.headers.host}${r.url}`, headers: r.headers as Record<string, string> },
  );
}

/** Sends a recorded request as is (Host included) to another port: a replay on the wire. */
function replay(port: number, r: Recorded, change: Partial<Recorded> = {}): Promise<{ status: number; body: Json }> {
  const m = { ...r, ...change };
  return new Promise((resolve, reject) => {
    const headers = { ...m.headers, "content-length": String(m.body.length) };
    const req = httpRequest({ host: "127.0.0.1", port, method: m.method, path: m.url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.on("error", reject);
    req.end(m.body);
  });
}

describe("an independent RFC 9421 implementation verifies Tollgate's signatures", () => {
  it("GET and POST, with the active key; the content-digest is the body's SHA-256", async () => {
    const { agentKey } = await setup(gw, recorder.url, "interop-a");
    const from = recorder.seen.length;
    expect((await api(gw, "GET", "/s/interop-a/items?b=2&a=1", agentKey)).status).toBe(200);
    const payload = { model: "m", messages: [{ role: "user", content: "héllo" }] };
    expect((await api(gw, "POST", "/s/interop-a/v1/chat", agentKey, payload)).status).toBe(200);
    const [get, post] = recorder.seen.slice(from) as [Recorded, Recorded];

    expect(get.headers["signature-input"]).toContain('keyid="test-a"');
    expect(get.headers).not.toHaveProperty("content-digest");
    expect(await thirdPartyVerify(gw, get)).toBe(true);

    expect(post.body.toString("utf8")).toBe(JSON.stringify(payload));
    expect(post.headers["content-digest"]).toBe(`sha-256=:${createHash("sha256").update(post.body).digest("base64")}:`);
    expect(post.headers["signature-input"]).toContain('"content-digest"');
    expect(await thirdPartyVerify(gw, post)).toBe(true);
  });

  it("refuses what it should: a changed method or path does not verify", async () => {
    const { agentKey } = await setup(gw, recorder.url, "interop-b");
    const from = recorder.seen.length;
    await api(gw, "GET", "/s/interop-b/x?y=1", agentKey);
    const r = recorder.seen[from] as Recorded;
    expect(await thirdPartyVerify(gw, { ...r, method: "DELETE" })).toBe(false);
    expect(await thirdPartyVerify(gw, { ...r, url: "/x?y=2" })).toBe(false);
  });

  it("rotation: the second key's signatures verify against a JWKS listing both, with its kid", async () => {
    const { agentKey } = await setup(rotated, recorder.url, "interop-rot");
    const from = recorder.seen.length;
    await api(rotated, "POST", "/s/interop-rot/v1/x", agentKey, { a: 1 });
    const r = recorder.seen[from] as Recorded;
    expect(r.headers["signature-input"]).toContain('keyid="test-b"');
    const kids = (await api(rotated, "GET", "/.well-known/jwks.json", null)).body.keys.map((k: Json) => k.kid);
    expect(kids).toEqual(["test-b", "test-a"]);
    expect(await thirdPartyVerify(rotated, r)).toBe(true);
    // …and against the first gateway's JWKS (test-a signing), which lists test-b too.
    expect(await thirdPartyVerify(gw, r)).toBe(true);
  });
});

describe("the SDK's example origins", () => {
  for (const [name, create] of [
    ["node:http", (o: Parameters<typeof createNodeOrigin>[0]) => createNodeOrigin(o)],
    ["express", (o: Parameters<typeof createExpressOrigin>[0]) => createExpressOrigin(o)],
  ] as const) {
    it(`${name}: serves a paid call; refuses unsigned, tampered, replayed and other-service requests`, async () => {
      // The origin listens first (on a port nothing else can take meanwhile), the service is
      // registered at that port, then the example answers the requests.
      let example: Server | ReturnType<typeof createExpressOrigin> | null = null;
      const listening = createServer((req, res) => (example instanceof Server ? example.emit("request", req, res) : example?.(req, res))).listen(
        0,
        "127.0.0.1",
      );
      servers.push(listening);
      await new Promise((r) => listening.once("listening", r));
      const port = (listening.address() as AddressInfo).port;
      const slug = `example-${name.replace(/\W/g, "")}`;
      const { service, agentKey } = await setup(gw, `http://127.0.0.1:${port}`, slug);
      example = create({ jwksUrl: service.verification.jwks_url, serviceId: service.id });

      // Step 3 of the README: the paid call, through Tollgate.
      const paid = await api(gw, "POST", `/s/${slug}/v1/translate`, agentKey, { text: "abc" });
      expect(paid.status, JSON.stringify(paid.body)).toBe(200);
      expect(paid.body).toEqual({ translation: "cba", request_id: paid.headers.get("tollgate-request-id"), max_charge: 10 });

      // Straight to the origin, around Tollgate: no signature.
      const direct = await fetch(`http://127.0.0.1:${port}/v1/translate`, { method: "POST", body: '{"text":"free?"}' });
      expect({ status: direct.status, body: await direct.json() }).toMatchObject({ status: 401, body: { error: "missing_signature" } });

      // A genuine request made for the recorder's service: right signature, wrong service.
      const { agentKey: otherKey } = await setup(gw, recorder.url, `${slug}-other`);
      const from = recorder.seen.length;
      await api(gw, "POST", `/s/${slug}-other/v1/translate`, otherKey, { text: "abc" });
      const foreign = recorder.seen[from] as Recorded;
      expect(await replay(port, foreign)).toMatchObject({ status: 401, body: { error: "wrong_service" } });

      // The same, had it been made for this service: its body changed, then replayed as is.
      const mine = await setup(gw, recorder.url, `${slug}-mine`);
      const listening2 = create({ jwksUrl: service.verification.jwks_url, serviceId: mine.service.id }).listen(0, "127.0.0.1");
      servers.push(listening2);
      await new Promise((r) => listening2.once("listening", r));
      const port2 = (listening2.address() as AddressInfo).port;
      const at = recorder.seen.length;
      await api(gw, "POST", `/s/${slug}-mine/v1/translate`, mine.agentKey, { text: "abc" });
      const captured = recorder.seen[at] as Recorded;
      expect(await replay(port2, captured, { body: Buffer.from('{"text":"abcdef"}') })).toMatchObject({ status: 401, body: { error: "digest_mismatch" } });
      expect(await replay(port2, captured, { method: "PUT" })).toMatchObject({ status: 401, body: { error: "bad_signature" } });
      expect(await replay(port2, captured)).toMatchObject({ status: 200, body: { translation: "cba", max_charge: 10 } });
      expect(await replay(port2, captured)).toMatchObject({ status: 401, body: { error: "replayed" } });
    });
  }
});
