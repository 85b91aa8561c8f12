/**
 * Bytes on the wire the Fetch API cannot send: absolute-form targets, duplicate Host or
 * Content-Length, bare CR and obs-fold in header values, TE + CL. Sent over a raw socket to the
 * real gateway, with an origin that records everything it receives, in the two local setups:
 *
 * - `wrangler dev` (test/e2e/harness.ts): wrangler's local proxy, then workerd, then the Worker;
 * - workerd alone (Miniflare with a direct socket to the Worker, as the bench runs it:
 *   bench/gateway.ts) — the closest local stand-in for the Worker behind Cloudflare's edge.
 *
 * Shows what is refused or normalized before the Worker runs, and what the origin then sees
 * (SECURITY.md, "What the runtime does before the Worker"). Where the two setups differ (TE + CL),
 * both outcomes are asserted.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway as startWorkerd } from "../../bench/gateway.ts";
import { startGateway as startWranglerDev } from "./harness.ts";

type Seen = { method: string; url: string; headers: IncomingHttpHeaders; body: string };
type Running = { url: string; operatorToken: string; stop: () => Promise<void> };
type Setup = "wrangler dev" | "workerd";

let recorder: Server;
let originUrl: string;
const seen: Seen[] = [];

beforeAll(async () => {
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("latin1") });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => recorder.listen(0, "127.0.0.1", r));
  originUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => (recorder ? recorder.close(() => r()) : r()));
});

/** What the origin received while `action` ran (the recorder is only ours). */
async function originSaw(action: () => Promise<unknown>): Promise<Seen[]> {
  const from = seen.length;
  await action();
  await new Promise((r) => setTimeout(r, 100));
  return seen.slice(from);
}

const SETUPS: [Setup, () => Promise<Running>][] = [
  ["wrangler dev", () => startWranglerDev()],
  ["workerd", () => startWorkerd({ originUrl: "http://127.0.0.1:9", d1Counter: false })],
];

describe.each(SETUPS)("%s", (setup, start) => {
  let gw: Running;
  let slug: string;
  let hostname: string;
  let agentKey: string;
  let accountId: string;
  let ownerKey: string;

  /** One raw HTTP/1.1 exchange: the status, the head and the rest. */
  function raw(text: string, timeoutMs = 10_000): Promise<{ status: number; head: string; body: string }> {
    const { hostname: host, port } = new URL(gw.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), host, () => socket.end(text, "latin1"));
      let out = "";
      socket.setEncoding("latin1");
      socket.on("data", (d: string) => (out += d));
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        const [head = "", ...rest] = out.split("\r\n\r\n");
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
        resolve({ status, head, body: rest.join("\r\n\r\n") });
      };
      socket.on("end", done);
      socket.on("close", done);
      socket.on("error", (err) => (out ? done() : reject(err)));
      setTimeout(() => {
        socket.destroy();
        done();
      }, timeoutMs).unref();
    });
  }

  async function api(method: string, path: string, token: string, body?: unknown) {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  async function posted(): Promise<number> {
    return (await api("GET", `/v1/accounts/${accountId}/balance`, ownerKey)).body.posted as number;
  }

  beforeAll(async () => {
    gw = await start();
    const op = gw.operatorToken;
    const provider = (await api("POST", "/v1/providers", op, { name: "raw" })).body;
    const account = (await api("POST", "/v1/accounts", op, { name: "raw", currency: "USD" })).body;
    accountId = account.id;
    ownerKey = account.owner_key;
    await api("POST", `/v1/accounts/${accountId}/credits`, op, { amount: 1_000_000 });
    agentKey = (await api("POST", `/v1/accounts/${accountId}/agent-keys`, ownerKey, { name: "raw" })).body.key;
    slug = `raw-${Date.now().toString(36)}`;
    hostname = `${slug}.example.test`;
    const svc = await api("POST", "/v1/services", provider.api_key, { slug, name: "raw", origin: originUrl, hostnames: [hostname], prices: [{ per_call: 1 }] });
    expect(svc.status, JSON.stringify(svc.body)).toBe(201);
    // A claimed hostname routes only once the operator has activated it (test/e2e/hostnames.test.ts).
    const activated = await api("POST", `/v1/services/${svc.body.id}/hostnames/${hostname}/activate`, op);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await gw?.stop();
  });

  const H = () => `Host: 127.0.0.1:${new URL(gw.url).port}\r\nAuthorization: Bearer ${agentKey}\r\nConnection: close\r\n`;

  describe("refused before the Worker runs: nothing forwarded, nothing charged", () => {
    const cases: [string, () => string][] = [
      ["an absolute-form target", () => `GET http://evil.example/s/${slug}/x HTTP/1.1\r\n${H()}\r\n`],
      ["an absolute-form target naming the gateway", () => `GET ${gw.url}/s/${slug}/x HTTP/1.1\r\n${H()}\r\n`],
      ["an absolute-form target with userinfo", () => `GET http://user:pw@127.0.0.1/s/${slug}/x HTTP/1.1\r\n${H()}\r\n`],
      ["two Host headers", () => `GET /s/${slug}/x HTTP/1.1\r\nHost: evil.example\r\n${H()}\r\n`],
      ["a space in a header name", () => `GET /s/${slug}/x HTTP/1.1\r\n${H()}X A: 1\r\n\r\n`],
      ["two different Content-Lengths", () => `POST /s/${slug}/x HTTP/1.1\r\n${H()}Content-Length: 3\r\nContent-Length: 5\r\n\r\nhello`],
      ["an unknown transfer coding", () => `POST /s/${slug}/x HTTP/1.1\r\n${H()}Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
      ["CONNECT", () => `CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nAuthorization: Bearer ${agentKey}\r\nConnection: close\r\n\r\n`],
      ["an asterisk-form target", () => `OPTIONS * HTTP/1.1\r\n${H()}\r\n`],
    ];

    it.each(cases)("%s", async (_, request) => {
      const before = await posted();
      let status = 0;
      const origin = await originSaw(async () => {
        status = (await raw(request())).status;
      });
      // The runtime answers 400 or 500 itself (or drops the connection: 0); the Worker never ran.
      expect(status === 0 || status >= 400, `status ${status}`).toBe(true);
      expect(origin).toEqual([]);
      expect(await posted()).toBe(before);
    });
  });

  describe("reaches the Worker, which refuses it (problem+json, before auth)", () => {
    it("a control character (\\x01) in a header value → 400", async () => {
      const origin = await originSaw(async () => {
        expect((await raw(`GET /s/${slug}/x HTTP/1.1\r\n${H()}X-A: a\x01b\r\n\r\n`)).status).toBe(400);
      });
      expect(origin).toEqual([]);
    });

    it("headers over 32 KiB → 431 (the runtime itself accepts far more)", async () => {
      const big = Array.from({ length: 5 }, (_, i) => `X-Part-${i}: ${"a".repeat(7 * 1024)}\r\n`).join("");
      const origin = await originSaw(async () => {
        const res = await raw(`GET /s/${slug}/x HTTP/1.1\r\n${H()}${big}\r\n`);
        expect(res.status).toBe(431);
        expect(JSON.parse(res.body)).toMatchObject({ code: "request_header_fields_too_large" });
      });
      expect(origin).toEqual([]);
    });

    it("an encoded slash after a dot segment (..%2f) → 400", async () => {
      const origin = await originSaw(async () => {
        expect((await raw(`GET /s/${slug}/a/..%2fx HTTP/1.1\r\n${H()}\r\n`)).status).toBe(400);
      });
      expect(origin).toEqual([]);
    });
  });

  describe("Transfer-Encoding with Content-Length: the two setups differ", () => {
    it("Transfer-Encoding with Content-Length: refused by the Worker, or framed by TE before it; the origin never sees a desync", async () => {
      const before = await posted();
      let res = { status: 0, head: "", body: "" };
      const origin = await originSaw(async () => {
        res = await raw(`POST /s/${slug}/x HTTP/1.1\r\n${H()}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
      });
      if (setup === "workerd") {
        // Both headers reach the Worker (workerd would decode the chunks and ignore the length).
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_request" });
        expect(origin).toEqual([]);
        expect(await posted()).toBe(before);
      } else {
        // wrangler's local proxy keeps Transfer-Encoding and drops Content-Length (RFC 9112 §6.3):
        // the Worker reads the chunked body; the origin gets exactly what was signed, re-framed.
        expect(res.status).toBe(200);
        expect(origin).toHaveLength(1);
        expect(origin[0]).toMatchObject({ body: "hello", headers: { "content-length": "5" } });
        expect(origin[0]?.headers).not.toHaveProperty("transfer-encoding");
        expect(origin[0]?.headers["content-digest"]).toMatch(/^sha-256=:/);
      }
    });
  });

  describe("a bare CR in a header value is read as a line end (by workerd and by wrangler's proxy)", () => {
    it("when what follows is not a header line, the request is refused before the Worker", async () => {
      const before = await posted();
      let status = 0;
      const origin = await originSaw(async () => {
        status = (await raw(`GET /s/${slug}/cr HTTP/1.1\r\n${H()}X-A: a\rb c\r\n\r\n`)).status;
      });
      expect(status).toBe(400);
      expect(origin).toEqual([]);
      expect(await posted()).toBe(before);
    });

    it("when it is, the client has only split its own request into headers it could have sent anyway: they are cleaned like any other", async () => {
      const injected = `X-A: a\rTollgate-Request-Id: req_forged\rX-Api-Key: ${agentKey}\rX-Injected: 1\r\n`;
      const origin = await originSaw(() => raw(`GET /s/${slug}/cr HTTP/1.1\r\n${H()}${injected}\r\n`));
      expect(origin).toHaveLength(1);
      const headers = origin[0]?.headers ?? {};
      expect(headers["x-a"]).toBe("a");
      expect(headers["x-injected"]).toBe("1");
      expect(headers["tollgate-request-id"]).not.toBe("req_forged");
      expect(headers).not.toHaveProperty("x-api-key");
      expect(JSON.stringify(headers)).not.toMatch(/\\r/);
    });
  });

  describe("normalized before the Worker: what the origin receives", () => {
    it("obs-fold: the continuation line is folded into spaces; no CR or LF reaches the origin", async () => {
      const [got] = await originSaw(() => raw(`GET /s/${slug}/fold HTTP/1.1\r\n${H()}X-Folded: a\r\n b\r\n\r\n`));
      expect(got?.headers["x-folded"]).toMatch(/^a\s+b$/);
      expect(got?.headers["x-folded"]).not.toMatch(/[\r\n]/);
    });

    it("plain dot segments are resolved by the URL parser: the origin gets the folded path, which is what was priced", async () => {
      const [got] = await originSaw(() => raw(`GET /s/${slug}/a/../b/./c HTTP/1.1\r\n${H()}\r\n`));
      expect(got?.url).toBe("/b/c");
    });

    it("the Host header is the route (as on Cloudflare), never passed on: the origin sees its own host", async () => {
      const port = new URL(gw.url).port;
      const [viaCustom] = await originSaw(() =>
        raw(`GET /custom HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${agentKey}\r\nConnection: close\r\n\r\n`),
      );
      expect(viaCustom?.url).toBe("/custom");
      expect(viaCustom?.headers.host).toBe(new URL(originUrl).host);
      const [viaOther] = await originSaw(() =>
        raw(`GET /s/${slug}/other HTTP/1.1\r\nHost: evil.example:${port}\r\nAuthorization: Bearer ${agentKey}\r\nConnection: close\r\n\r\n`),
      );
      expect(viaOther?.url).toBe("/other");
      expect(viaOther?.headers.host).toBe(new URL(originUrl).host);
    });

    it("client-sent copies of Tollgate's and the edge's headers are replaced or dropped", async () => {
      const [got] = await originSaw(() =>
        raw(
          `GET /s/${slug}/h HTTP/1.1\r\n${H()}Tollgate-Request-Id: req_forged\r\nSignature: forged\r\nCF-Connecting-IP: 6.6.6.6\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n`,
        ),
      );
      expect(got?.headers["tollgate-request-id"]).not.toBe("req_forged");
      expect(got?.headers.signature).not.toBe("forged");
      expect(got?.headers).not.toHaveProperty("cf-connecting-ip");
      expect(got?.headers).not.toHaveProperty("x-forwarded-for");
      expect(got?.headers).not.toHaveProperty("authorization");
    });
  });
});
