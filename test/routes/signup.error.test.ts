/** POST /v1/signup refused: closed by the operator, bad input, a reused key, too many sign-ups. Nothing is created. */
import { describe, expect, it } from "vitest";
import { call, expectProblem } from "./helpers";
import { counts, freshIp, idemKey, signup } from "./signup-helpers";

const good = { name: "Acme", email: "ops@acme.example" };

describe("POST /v1/signup refused", () => {
  it('closed unless the operator sets OPEN_SIGNUP=true (the default and "false"): 403 signup_closed', async () => {
    const before = await counts();
    const closedByDefault = await call("/v1/signup", { body: good, headers: { "cf-connecting-ip": freshIp() } });
    const problem = await expectProblem(closedByDefault, 403, "signup_closed");
    expect(problem.detail).toMatch(/operator/);
    await expectProblem(await signup(good, { ip: freshIp(), vars: { OPEN_SIGNUP: "false" } }), 403, "signup_closed");
    expect(await counts()).toEqual(before);
  });

  it("a mistyped OPEN_SIGNUP fails loudly instead of opening sign-up", async () => {
    const res = await signup(good, { ip: freshIp(), vars: { OPEN_SIGNUP: "yes" } });
    expect(res.status).toBe(500);
    await res.body?.cancel();
  });

  it.each([
    ["no name", { email: "a@b.example" }, "name"],
    ["an empty name", { name: "", email: "a@b.example" }, "name"],
    ["a name of spaces", { name: "   ", email: "a@b.example" }, "name"],
    ["a name of 101 characters", { name: "n".repeat(101), email: "a@b.example" }, "name"],
    ["no email", { name: "Acme" }, "email"],
    ["an email without @", { name: "Acme", email: "acme.example" }, "email"],
    ["an email with spaces", { name: "Acme", email: "a b@acme.example" }, "email"],
    ["an unknown member", { ...good, role: "operator" }, ""],
    ["a number for a name", { name: 42, email: "a@b.example" }, "name"],
  ])("400 invalid_request for %s", async (_, body, field) => {
    const before = await counts();
    const problem = await expectProblem(await signup(body, { ip: freshIp() }), 400, "invalid_request");
    if (field) expect(problem.errors.map((e: any) => e.path)).toContain(field);
    expect(await counts()).toEqual(before);
  });

  it("400 for a body that is not JSON, and for an Idempotency-Key too short to be unguessable", async () => {
    const before = await counts();
    await expectProblem(await signup("{name:", { ip: freshIp() }), 400, "invalid_request");
    const problem = await expectProblem(await signup(good, { ip: freshIp(), key: "short-key" }), 400, "invalid_request");
    expect(problem.errors[0].path).toBe("idempotency-key");
    expect(await counts()).toEqual(before);
  });

  it("422 idempotency_mismatch: a key reused for another name or email; the first sign-up stands", async () => {
    const key = idemKey();
    const ip = freshIp();
    expect((await signup(good, { ip, key })).status).toBe(201);
    const before = await counts();
    await expectProblem(await signup({ ...good, email: "other@acme.example" }, { ip, key }), 422, "idempotency_mismatch");
    await expectProblem(await signup({ ...good, name: "Other" }, { ip, key }), 422, "idempotency_mismatch");
    expect(await counts()).toEqual(before);
  });

  it("429 after SIGNUP_LIMIT (5) sign-ups per address per hour, with Retry-After; nothing is created; other addresses go on", async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) expect((await signup({ ...good, name: `Acme ${i}` }, { ip })).status).toBe(201);
    const before = await counts();
    const res = await signup({ ...good, name: "Acme 6" }, { ip, key: idemKey() });
    const problem = await expectProblem(res, 429, "rate_limited");
    const wait = Number(res.headers.get("retry-after"));
    expect(wait).toBeGreaterThan(3_000);
    expect(wait).toBeLessThanOrEqual(3_600);
    expect(problem.retry_after).toBe(wait);
    expect(await counts()).toEqual(before);
    expect((await signup(good, { ip: freshIp() })).status).toBe(201);
  });

  it("SIGNUP_LIMIT is the operator's to set", async () => {
    const ip = freshIp();
    const vars = { OPEN_SIGNUP: "true", SIGNUP_LIMIT: "2" };
    expect((await signup(good, { ip, vars })).status).toBe(201);
    expect((await signup(good, { ip, vars })).status).toBe(201);
    await expectProblem(await signup(good, { ip, vars }), 429, "rate_limited");
  });

  it("clients the edge names no address for share one bucket", async () => {
    // Every request here comes without cf-connecting-ip; a limit of 1 shows they are counted together.
    const vars = { OPEN_SIGNUP: "true", SIGNUP_LIMIT: "1" };
    const first = await signup(good, { vars });
    const second = await signup(good, { vars });
    expect([first.status, second.status]).toContain(429);
  });
});
