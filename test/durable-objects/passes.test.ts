import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newId, randomToken } from "../../core/ids";
import type { BuyPassInput, PlanTerms } from "../../durable-objects/pass-types";
import { MIGRATIONS } from "../../durable-objects/schema";
import { balanceOf, inLedger, ledger, newAccountId, openAccount, reserveInput, sleep, type TestAccount } from "./helpers";

const plan = (over: Partial<PlanTerms> = {}): PlanTerms => ({ id: "pln_test", name: "Ten calls", price: 1_000, duration_s: null, calls: 10, ...over });

const buy = (acct: TestAccount, over: Partial<BuyPassInput> = {}): BuyPassInput => ({
  actor: "agent:test",
  keyHash: acct.keyHash,
  plan: plan(),
  serviceId: "svc_test",
  serviceSlug: "svc-test",
  providerId: "prov_test",
  feeBps: 1_000,
  currency: "USD",
  autoRenew: false,
  idempotencyKey: null,
  fingerprint: "",
  ...over,
});

const covered = (planIds = ["pln_test"], passOnly = false) => ({ passes: { planIds, passOnly } });

async function runAlarm(acct: TestAccount): Promise<void> {
  if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (i) => i.alarm());
}

/** A key bound to a mandate, on a fresh account. */
async function keyUnderMandate(acct: TestAccount, terms: { max_total?: number; max_per_call?: number; valid_until?: number }) {
  const m = await acct.stub.createMandate({
    actor: "owner",
    mandate: {
      intent: "passes",
      max_total: terms.max_total ?? 1_000_000,
      max_per_call: terms.max_per_call ?? 1_000_000,
      max_per_day: null,
      valid_from: Date.now() - 1_000,
      valid_until: terms.valid_until ?? Date.now() + 3_600_000,
      services: ["svc-test"],
      tags: null,
    },
  });
  if (!m.ok) throw new Error("mandate");
  const keyHash = `hash_${randomToken(32)}`;
  await acct.stub.createAgentKey({ id: newId("ak"), name: "bound", keyHash, mandateId: m.mandate.id, actor: "owner" });
  return { ...acct, keyHash };
}

describe("passes in the ledger (I16)", () => {
  it("a purchase is a charge of the service: the price leaves the balance, the journal names the pass", async () => {
    const acct = await openAccount(10_000);
    const res = await acct.stub.buyPass(buy(acct));
    expect(res).toMatchObject({
      ok: true,
      replayed: false,
      pass: { plan_id: "pln_test", status: "active", calls: 10, calls_left: 10, expires_at: null, period: 1 },
      transfer: { kind: "capture", amount: 1_000, fee: 100, hold_id: null, reason: "pass_purchase", service_id: "svc_test", provider_id: "prov_test" },
      balance: balanceOf(9_000, 0),
    });
    if (res.ok) expect(res.transfer.reference).toBe(res.pass.id);
  });

  it("100 calls at once on a 10-call pass: exactly 10 are served by it for 0, the rest pay per call", async () => {
    const acct = await openAccount(1_000_000);
    const bought = await acct.stub.buyPass(buy(acct));
    if (!bought.ok) throw new Error("buy");
    const results = await Promise.all(Array.from({ length: 100 }, () => acct.stub.reserve(reserveInput(acct.keyHash, 500, covered()))));
    const onPass = results.filter((r) => r.ok && r.pass_id === bought.pass.id);
    expect(onPass).toHaveLength(10);
    expect(onPass.every((r) => r.ok && r.amount === 0)).toBe(true);
    expect(results.filter((r) => r.ok && r.pass_id === undefined && r.amount === 500)).toHaveLength(90);
    expect(await acct.stub.balance()).toEqual(balanceOf(1_000_000 - 1_000, 90 * 500));
    expect((await acct.stub.passList(10, null))?.data[0]).toMatchObject({ status: "used_up", calls_left: 0 });
  });

  it("pass-only: with the pass used up, 90 of 100 racing calls are refused with pass_required and nothing is held", async () => {
    const acct = await openAccount(1_000_000);
    await acct.stub.buyPass(buy(acct));
    const results = await Promise.all(Array.from({ length: 100 }, () => acct.stub.reserve(reserveInput(acct.keyHash, 500, covered(["pln_test"], true)))));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok && r.code === "pass_required")).toHaveLength(90);
    expect(await acct.stub.balance()).toEqual(balanceOf(999_000, 0));
  });

  it("a failed call gives its pass call back; a captured one does not", async () => {
    const acct = await openAccount(10_000);
    await acct.stub.buyPass(buy(acct, { plan: plan({ calls: 1 }) }));
    const first = await acct.stub.reserve(reserveInput(acct.keyHash, 500, covered()));
    if (!first.ok) throw new Error("reserve");
    expect((await acct.stub.passList(1, null))?.data[0]).toMatchObject({ status: "used_up", calls_left: 0 });
    await acct.stub.release({ holdId: first.hold_id, reason: "origin_failed" });
    expect((await acct.stub.passList(1, null))?.data[0]).toMatchObject({ status: "active", calls_left: 1 });
    const second = await acct.stub.reserve(reserveInput(acct.keyHash, 500, covered()));
    if (!second.ok) throw new Error("reserve");
    expect(await acct.stub.capture({ holdId: second.hold_id, amount: 0 })).toMatchObject({ ok: true, transfer: null });
    expect((await acct.stub.passList(1, null))?.data[0]).toMatchObject({ status: "used_up", calls_left: 0 });
  });

  it("the same Idempotency-Key buys once; a time pass covers nothing once it ends", async () => {
    const acct = await openAccount(10_000);
    const input = buy(acct, { plan: plan({ calls: null, duration_s: 1 }), idempotencyKey: "k1", fingerprint: "f1" });
    const [a, b] = await Promise.all([acct.stub.buyPass(input), acct.stub.buyPass(input)]);
    expect([a.ok && a.replayed, b.ok && b.replayed].sort()).toEqual([false, true]);
    expect(await acct.stub.balance()).toEqual(balanceOf(9_000, 0));
    expect(await acct.stub.buyPass({ ...input, fingerprint: "other" })).toEqual({ ok: false, code: "idempotency_mismatch" });
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 500, covered()))).toMatchObject({ ok: true, amount: 0 });
    await sleep(1_100);
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 500, covered()))).toMatchObject({ ok: true, amount: 500 });
  });

  it("auto-renews at its end once, however many times the alarm runs, and keeps its period's length", async () => {
    const acct = await openAccount(10_000);
    const bought = await acct.stub.buyPass(buy(acct, { plan: plan({ calls: 2, duration_s: 1 }), autoRenew: true }));
    if (!bought.ok) throw new Error("buy");
    await sleep(1_100);
    await Promise.all([runAlarm(acct), runAlarm(acct)]);
    await runAlarm(acct);
    const [pass] = (await acct.stub.passList(1, null))?.data ?? [];
    expect(pass).toMatchObject({ status: "active", period: 2, calls_left: 2 });
    expect(Date.parse(pass!.expires_at!) - Date.parse(pass!.starts_at)).toBe(1_000);
    expect(await acct.stub.balance()).toEqual(balanceOf(8_000, 0));
    const renewals = (await acct.stub.transfers(10, null)).data.filter((t) => t.reason === "pass_renewal");
    expect(renewals).toHaveLength(1);
  });

  it("renews inside the mandate's valid_until, not past it: the pass lapses and the trail says why", async () => {
    const acct = await keyUnderMandate(await openAccount(10_000), { valid_until: Date.now() + 1_900 });
    const bought = await acct.stub.buyPass(buy(acct, { plan: plan({ calls: null, duration_s: 1 }), autoRenew: true }));
    expect(bought.ok).toBe(true);
    // Its end at +1 s is inside the mandate (renewed), its next at +2 s is past it (lapses); the
    // margins leave a slow machine most of a second.
    await sleep(2_600);
    await runAlarm(acct);
    expect((await acct.stub.passList(1, null))?.data[0]).toMatchObject({ status: "lapsed", lapse_reason: "mandate_expired", period: 2 });
    expect(await acct.stub.balance()).toEqual(balanceOf(8_000, 0));
    const trail = (await acct.stub.auditEvents(5, null)).data.map((e) => [e.event, e.outcome, e.reason?.split(": ")[1] ?? null]);
    expect(trail).toContainEqual(["pass_lapsed", "refused", "mandate_expired"]);
  });

  it("a renewal the balance cannot cover lapses with insufficient_funds, and takes nothing", async () => {
    const acct = await openAccount(1_500);
    const bought = await acct.stub.buyPass(buy(acct, { plan: plan({ calls: null, duration_s: 1 }), autoRenew: true }));
    expect(bought.ok).toBe(true);
    await sleep(1_100);
    await runAlarm(acct);
    expect((await acct.stub.passList(1, null))?.data[0]).toMatchObject({ status: "lapsed", lapse_reason: "insufficient_funds", period: 1 });
    expect(await acct.stub.balance()).toEqual(balanceOf(500, 0));
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 500, covered()))).toMatchObject({ ok: true, amount: 500 });
  });

  it("a cancelled pass does not renew; the mandate bounds a purchase like a call", async () => {
    const acct = await keyUnderMandate(await openAccount(10_000), { max_per_call: 999 });
    expect(await acct.stub.buyPass(buy(acct))).toMatchObject({ ok: false, code: "mandate_per_call_exceeded" });
    expect(await acct.stub.balance()).toEqual(balanceOf(10_000, 0));
    const owner = await acct.stub.buyPass(buy(acct, { keyHash: null, actor: "owner", plan: plan({ calls: null, duration_s: 1 }), autoRenew: true }));
    if (!owner.ok) throw new Error("buy");
    expect(await acct.stub.cancelPass({ actor: "owner", passId: owner.pass.id, agentKeyHash: null })).toMatchObject({ ok: true, pass: { auto_renew: false } });
    await sleep(1_100);
    await runAlarm(acct);
    expect((await acct.stub.passList(1, null))?.data[0]).toMatchObject({ status: "expired", period: 1 });
    expect(await acct.stub.buyPass(buy(acct, { plan: plan({ duration_s: null }), autoRenew: true }))).toEqual({ ok: false, code: "renewal_needs_duration" });
  });

  it("a pass refunded pro rata runs on; refunded in full, it ends and covers nothing more", async () => {
    const acct = await openAccount(10_000);
    const bought = await acct.stub.buyPass(buy(acct));
    if (!bought.ok) throw new Error("buy");
    const refund = (amount: number) =>
      acct.stub.refund({
        actor: "provider:prov_test",
        transferId: bought.transfer.id,
        providerId: "prov_test",
        amount,
        reason: null,
        idempotencyKey: null,
        fingerprint: "",
      });
    expect(await refund(400)).toMatchObject({ ok: true });
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 500, covered()))).toMatchObject({ ok: true, amount: 0, pass_id: bought.pass.id });
    expect(await refund(600)).toMatchObject({ ok: true });
    expect((await acct.stub.passList(1, null))?.data[0]).toMatchObject({ status: "expired", calls_left: 0, auto_renew: false });
    expect(await acct.stub.reserve(reserveInput(acct.keyHash, 500, covered()))).toMatchObject({ ok: true, amount: 500 });
    expect(await acct.stub.balance()).toEqual(balanceOf(10_000, 500));
  });

  it("carries a v9 journal over unchanged into v10", async () => {
    const stub = ledger(newAccountId());
    const rows = await inLedger(stub, (_i, state) => {
      const sql = state.storage.sql;
      for (const step of MIGRATIONS.slice(0, 9)) sql.exec(step);
      sql.exec("INSERT INTO transfers (seq, id, kind, amount, fee, provider_id, created_at) VALUES (1, 'tr_a', 'credit', 500, 0, NULL, 1)");
      sql.exec(
        "INSERT INTO transfers (seq, id, kind, amount, fee, provider_id, created_at, dispute_id) VALUES (2, 'cp_b', 'compensation', 5, 0, 'p', 2, 'dp_x')",
      );
      sql.exec(MIGRATIONS[9] as string);
      return sql.exec("SELECT seq, id, kind, amount, dispute_id FROM transfers ORDER BY seq").toArray();
    });
    expect(rows).toEqual([
      { seq: 1, id: "tr_a", kind: "credit", amount: 500, dispute_id: null },
      { seq: 2, id: "cp_b", kind: "compensation", amount: 5, dispute_id: "dp_x" },
    ]);
  });
});
