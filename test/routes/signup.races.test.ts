/** Concurrent sign-ups: one Idempotency-Key makes one provider; the per-address limit holds under a burst. */
import { describe, expect, it } from "vitest";
import { counts, freshIp, idemKey, signup } from "./signup-helpers";

describe("POST /v1/signup races", () => {
  it("20 concurrent sign-ups with one Idempotency-Key: one provider, and every answer is its key", async () => {
    const before = await counts();
    const key = idemKey();
    const ip = freshIp();
    const answers = await Promise.all(Array.from({ length: 20 }, () => signup({ name: "Racer", email: "race@racer.example" }, { ip, key })));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(201));
    const bodies = await Promise.all(answers.map((r) => r.json<any>()));
    expect(new Set(bodies.map((b) => b.provider.id)).size).toBe(1);
    expect(new Set(bodies.map((b) => b.api_key)).size).toBe(1);
    expect(answers.filter((r) => r.headers.get("idempotent-replayed") !== "true")).toHaveLength(1);
    expect(await counts()).toEqual({ providers: before.providers + 1, signups: before.signups + 1 });
  });

  it("20 concurrent sign-ups with different keys from one address: exactly the limit (5) get through", async () => {
    const before = await counts();
    const ip = freshIp();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => signup({ name: `Burst ${i}`, email: "b@burst.example" }, { ip, key: idemKey() })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    await Promise.all(answers.map((r) => r.body?.cancel()));
    expect(await counts()).toEqual({ providers: before.providers + 5, signups: before.signups + 5 });
  });
});
