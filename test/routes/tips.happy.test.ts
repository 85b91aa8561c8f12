/**
 * Tips (docs/TIPS.md): a one-off transfer from the account to a service's provider, by an agent
 * key or the account's owner; its journal line, its legs in D1, the provider's balance, the
 * platform's fee (TIP_FEE_BPS) and Idempotency-Key replays.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, api, balance } from "./helpers";
import { DB, exportNow } from "./ledger-helpers";
import { legSum, providerBalance } from "./payout-helpers";
import { moneyState, tip, type TipWorld, tipWorld } from "./tip-helpers";

let w: TipWorld;
beforeAll(async () => {
  w = await tipWorld(1_000_000);
});

describe("POST /v1/tips", () => {
  it("an agent tips: 201, the balance goes down by the tip, the journal has a tip line and D1 its legs; the provider's balance has it", async () => {
    const providerBefore = await legSum(w.prov.id);
    const before = await balance(w.p.accountId);
    const r = await tip(w.p.agentKey, { service_id: w.svc.id, amount: 2_500, message: "great answers" });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^tip_[0-9a-z]{20}$/),
      account_id: w.p.accountId,
      service_id: w.svc.id,
      provider_id: w.prov.id,
      amount: 2_500,
      fee: 0,
      currency: "USD",
      message: "great answers",
      created_at: expect.any(String),
    });
    expect(await balance(w.p.accountId)).toEqual({ ...before, posted: before.posted - 2_500, available: before.available - 2_500 });

    const journal = await api(`/v1/accounts/${w.p.accountId}/transfers?limit=1`, { key: w.p.ownerKey });
    expect(journal.body.data[0]).toMatchObject({
      id: r.body.id,
      kind: "tip",
      amount: 2_500,
      fee: 0,
      hold_id: null,
      service_id: w.svc.id,
      provider_id: w.prov.id,
      agent_key_id: w.p.agentKeyId,
      mandate_id: null,
      reason: "great answers",
    });

    await exportNow(w.p.accountId);
    const legs = await DB.prepare("SELECT ledger_account, amount FROM ledger_entries WHERE transfer_id = ? ORDER BY leg").bind(r.body.id).all();
    expect(legs.results).toEqual([
      { ledger_account: w.p.accountId, amount: -2_500 },
      { ledger_account: w.prov.id, amount: 2_500 },
    ]);
    expect(await legSum(w.prov.id)).toBe(providerBefore + 2_500);
    expect(await providerBalance(w.prov.id)).toMatchObject({ currency: "USD", available: providerBefore + 2_500 });
  });

  it("the owner tips (no key, no mandate); the audit trail records both kinds of tipper", async () => {
    const r = await tip(w.p.ownerKey, { service_id: w.svc.id, amount: 1 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ amount: 1, message: null });
    const journal = await api(`/v1/accounts/${w.p.accountId}/transfers?limit=1`, { key: w.p.ownerKey });
    expect(journal.body.data[0]).toMatchObject({ id: r.body.id, kind: "tip", agent_key_id: null, mandate_id: null, reason: null });
    const audit = await api(`/v1/accounts/${w.p.accountId}/audit?limit=100`, { key: OPERATOR });
    const tips = audit.body.data.filter((e: any) => e.event === "tip" && e.outcome === "ok");
    expect(tips.map((e: any) => e.actor)).toEqual(expect.arrayContaining(["owner", `agent:${w.p.agentKeyId}`]));
    expect(tips.find((e: any) => e.reason === r.body.id)).toMatchObject({ actor: "owner", service_id: w.svc.id, amount: 1 });
  });

  it("with TIP_FEE_BPS set, the platform takes its fee: three legs summing to zero", async () => {
    const r = await tip(w.p.agentKey, { service_id: w.svc.id, amount: 1_000 }, {}, { TIP_FEE_BPS: "1500" });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ amount: 1_000, fee: 150 });
    await exportNow(w.p.accountId);
    const legs = await DB.prepare("SELECT ledger_account, amount FROM ledger_entries WHERE transfer_id = ? ORDER BY leg").bind(r.body.id).all();
    expect(legs.results).toEqual([
      { ledger_account: w.p.accountId, amount: -1_000 },
      { ledger_account: w.prov.id, amount: 850 },
      { ledger_account: "platform", amount: 150 },
    ]);
  });

  it("the same Idempotency-Key and body replays the first tip, moving no money; another body is 422 idempotency_mismatch", async () => {
    const first = await tip(w.p.agentKey, { service_id: w.svc.id, amount: 700 }, { "idempotency-key": "tip-1" });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const state = await moneyState(w);
    const again = await tip(w.p.agentKey, { service_id: w.svc.id, amount: 700 }, { "idempotency-key": "tip-1" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    const other = await tip(w.p.agentKey, { service_id: w.svc.id, amount: 701 }, { "idempotency-key": "tip-1" });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("idempotency_mismatch");
    expect(await moneyState(w)).toEqual(state);
    // Keys are the caller's own: the owner's "tip-1" is another tip.
    const owners = await tip(w.p.ownerKey, { service_id: w.svc.id, amount: 700 }, { "idempotency-key": "tip-1" });
    expect(owners.status).toBe(201);
    expect(owners.body.id).not.toBe(first.body.id);
  });
});
