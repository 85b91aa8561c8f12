/** POST /v1/signup: a provider signs itself up, gets a working key, and a retry gets the same one. */
import { testEnv as env } from "../durable-objects/helpers";
import { describe, expect, it } from "vitest";
import { sdkSnippet } from "../../worker/onboarding/snippet";
import { api, expectProblem, GATEWAY, originUrl, unique } from "./helpers";
import { counts, freshIp, idemKey, signup } from "./signup-helpers";

describe("POST /v1/signup", () => {
  it("answers 201 with the provider and its key, and records who signed up", async () => {
    const before = await counts();
    const res = await signup({ name: "  Acme Translate ", email: "ops@acme.example" }, { ip: freshIp() });
    expect(res.status).toBe(201);
    const body = await res.json<any>();
    expect(body).toEqual({
      provider: { id: expect.stringMatching(/^prov_[0-9a-z]{20}$/), name: "Acme Translate", email: "ops@acme.example", created_at: expect.any(String) },
      api_key: expect.stringMatching(/^tg_prov_[0-9a-z]{20}_[0-9a-z]{32}$/),
    });
    expect(body.api_key.slice(8, 28)).toBe(body.provider.id.slice(5));
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    expect(await counts()).toEqual({ providers: before.providers + 1, signups: before.signups + 1 });
    const row = await env.DB.prepare("SELECT email, idempotency_key_hash, sealed_key FROM signups WHERE provider_id = ?").bind(body.provider.id).first();
    expect(row).toEqual({ email: "ops@acme.example", idempotency_key_hash: null, sealed_key: null });
  });

  it("the key is a provider's key like any other: it creates and lists services", async () => {
    const { api_key } = await (await signup({ name: "Self-served", email: "a@b.example" }, { ip: freshIp() })).json<any>();
    const created = await api("/v1/services", { key: api_key, body: { slug: unique("selfserve"), name: "S", origin: originUrl(), prices: [{ per_call: 1 }] } });
    expect(created.status).toBe(201);
    const list = await api("/v1/services", { key: api_key });
    expect(list.body.data.map((s: any) => s.id)).toEqual([created.body.id]);
  });

  it("the snippet for the new service (sdkSnippet) points at the keys its verification names", async () => {
    const { api_key } = await (await signup({ name: "Snippet", email: "s@snippet.example" }, { ip: freshIp() })).json<any>();
    const slug = unique("snippet");
    const svc = await api("/v1/services", { key: api_key, body: { slug, name: "S", origin: originUrl(), prices: [{ per_call: 1 }] } });
    const snippet = sdkSnippet({ serviceId: svc.body.id, slug, gatewayUrl: GATEWAY });
    expect(snippet.jwksUrl).toBe(svc.body.verification.jwks_url);
    expect(snippet.code).toContain(`serviceId: "${svc.body.id}"`);
    const jwks = await api(new URL(snippet.jwksUrl).pathname);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
  });

  it("a retry with the same Idempotency-Key answers the same provider and key, and creates nothing", async () => {
    const key = idemKey();
    const ip = freshIp();
    const first = await signup({ name: "Retry Co", email: "r@retry.example" }, { ip, key });
    expect(first.status).toBe(201);
    const a = await first.json<any>();
    const before = await counts();
    for (let i = 0; i < 3; i++) {
      const again = await signup({ name: "Retry Co", email: "r@retry.example" }, { ip, key });
      expect(again.status).toBe(201);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(await again.json()).toEqual(a);
    }
    expect(await counts()).toEqual(before);
  });

  it("D1 keeps neither the Idempotency-Key nor a readable provider key", async () => {
    const key = idemKey();
    const { provider, api_key } = await (await signup({ name: "Sealed", email: "s@sealed.example" }, { ip: freshIp(), key })).json<any>();
    const row = await env.DB.prepare("SELECT * FROM signups WHERE provider_id = ?").bind(provider.id).first<Record<string, unknown>>();
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(api_key);
    expect(stored).not.toContain(api_key.slice(29));
    expect(row?.sealed_key).toEqual(expect.any(String));
  });

  it("a retry is answered even when the client has used up its sign-ups (it creates nothing)", async () => {
    const ip = freshIp();
    const key = idemKey();
    const first = await (await signup({ name: "Limit Co", email: "l@limit.example" }, { ip, key })).json<any>();
    for (let i = 0; i < 4; i++) expect((await signup({ name: `Other ${i}`, email: "o@limit.example" }, { ip })).status).toBe(201);
    await expectProblem(await signup({ name: "One more", email: "o@limit.example" }, { ip }), 429, "rate_limited");
    const again = await signup({ name: "Limit Co", email: "l@limit.example" }, { ip, key });
    expect(again.status).toBe(201);
    expect((await again.json<any>()).api_key).toBe(first.api_key);
  });

  it("is public in /openapi.json (no security) and documents its errors as problems", async () => {
    const doc = (await api("/openapi.json")).body;
    const op = doc.paths["/v1/signup"].post;
    expect(op.security).toBeUndefined();
    expect(Object.keys(op.responses).sort()).toEqual(["201", "400", "403", "422", "429"]);
    expect(op.responses["429"].content["application/problem+json"].schema).toEqual({ $ref: "#/components/schemas/Problem" });
    expect(doc.components.schemas.SignupCreate.additionalProperties).toBe(false);
  });
});
