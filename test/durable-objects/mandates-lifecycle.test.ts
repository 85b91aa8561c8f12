import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/audit-chain";
import { newId, randomToken } from "../../core/ids";
import { mandateOf, openAccount, sleep, testEnv } from "./helpers";
import { INTENT, bound, mandateInput, reserveOk } from "./mandate-helpers";

// Mandates through the AccountLedger's RPC: created, read, listed and revoked; agent keys bound to them.

describe("creating and reading mandates", () => {
  it("records the terms, the intent's SHA-256 and zero counters; lists it", async () => {
    const acct = await openAccount(0);
    const input = mandateInput({ max_per_day: 30, services: ["translate", "search"], tags: { team: "growth" } });
    const m = mandateOf(await acct.stub.createMandate({ mandate: input, actor: "owner" }));
    expect(m).toEqual({
      id: expect.stringMatching(/^mnd_[0-9a-z]{20}$/),
      intent: INTENT,
      intent_hash: sha256Hex(INTENT),
      max_total: 100,
      max_per_call: 50,
      max_per_day: 30,
      valid_from: new Date(input.valid_from).toISOString(),
      valid_until: new Date(input.valid_until).toISOString(),
      services: ["translate", "search"],
      tags: { team: "growth" },
      created_at: expect.any(String),
      revoked_at: null,
      spent: 0,
      pending: 0,
      max_tip: null,
    });
    expect(await acct.stub.mandate(m!.id)).toEqual(m);
    expect(await acct.stub.mandates(10, null)).toEqual({ data: [m], next_cursor: null });
  });

  it("pages the list by id", async () => {
    const acct = await openAccount(0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(mandateOf(await acct.stub.createMandate({ mandate: mandateInput(), actor: "owner" }))!.id);
    ids.sort();
    const first = await acct.stub.mandates(2, null);
    expect(first.data.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(first.next_cursor).toBe(ids[1]);
    const second = await acct.stub.mandates(2, first.next_cursor);
    expect(second).toMatchObject({ data: [{ id: ids[2] }], next_cursor: null });
  });

  it("an unknown mandate, or any mandate of an unopened account, is null", async () => {
    const acct = await openAccount(0);
    expect(await acct.stub.mandate("mnd_00000000000000000000")).toBeNull();
    expect(mandateOf(await acct.stub.revokeMandate({ id: "mnd_00000000000000000000", actor: "owner" }))).toBeNull();
    const unopened = testEnv.ACCOUNT.get(testEnv.ACCOUNT.idFromName(newId("acct")));
    expect(mandateOf(await unopened.createMandate({ mandate: mandateInput(), actor: "owner" }))).toBeNull();
    expect(await unopened.mandates(10, null)).toEqual({ data: [], next_cursor: null });
  });
});

describe("keys and mandates", () => {
  it("a key cannot be bound to a revoked mandate, an unknown one, or another account's", async () => {
    const acct = await bound(0);
    const other = await bound(0);
    expect(mandateOf(await acct.stub.revokeMandate({ id: acct.mandate.id, actor: "owner" }))).toMatchObject({ revoked_at: expect.any(String) });
    const keys = async () => (await acct.stub.agentKeys(100, null)).data.length;
    const before = await keys();
    expect(
      await acct.stub.createAgentKey({ id: newId("ak"), name: "late", keyHash: `hash_${randomToken(32)}`, mandateId: acct.mandate.id, actor: "owner" }),
    ).toEqual({ ok: false, code: "mandate_revoked" });
    expect(
      await acct.stub.createAgentKey({ id: newId("ak"), name: "x", keyHash: `hash_${randomToken(32)}`, mandateId: "mnd_00000000000000000000", actor: "owner" }),
    ).toEqual({ ok: false, code: "mandate_not_found" });
    expect(
      await acct.stub.createAgentKey({ id: newId("ak"), name: "x", keyHash: `hash_${randomToken(32)}`, mandateId: other.mandate.id, actor: "owner" }),
    ).toEqual({ ok: false, code: "mandate_not_found" });
    expect(await keys()).toBe(before);
  });

  it("revoking twice keeps the first revocation and audits it once", async () => {
    const acct = await bound(0);
    const first = mandateOf(await acct.stub.revokeMandate({ id: acct.mandate.id, actor: "owner" }));
    await sleep(2);
    const second = mandateOf(await acct.stub.revokeMandate({ id: acct.mandate.id, actor: "operator" }));
    expect(second).toEqual(first);
    const revocations = (await acct.stub.auditEvents(100, null)).data.filter((e) => e.event === "mandate_revoked");
    expect(revocations).toHaveLength(1);
    expect(revocations[0]).toMatchObject({ actor: "owner", mandate_id: acct.mandate.id, intent_hash: sha256Hex(INTENT), outcome: "ok" });
  });

  it("the agent's own view shows its mandate", async () => {
    const acct = await bound(50);
    expect(await acct.stub.agent(acct.keyHash)).toMatchObject({
      ok: true,
      account_id: acct.id,
      key: { id: acct.keyId, mandate_id: acct.mandate.id },
      mandate: { id: acct.mandate.id, spent: 0 },
      mandate_used_today: 0,
    });
  });

  it("the agent's own view counts what the daily cap counts today: holds in flight and spending", async () => {
    const acct = await bound(50);
    await reserveOk(acct, 7);
    await reserveOk(acct, 5);
    expect(await acct.stub.agent(acct.keyHash)).toMatchObject({ ok: true, mandate: { pending: 12 }, mandate_used_today: 12 });
  });
});
