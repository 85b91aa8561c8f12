/**
 * One run: a fresh account with three keys (the third revoked), an opening credit and charge, the
 * steps, then recovery.
 */
import { expect } from "vitest";
import { newId, randomToken } from "../../core/ids";
import { ledger } from "../durable-objects/helpers";
import { expectCapture } from "./capture-steps";
import { checkAll } from "./checks";
import { alarmStep, crash, restoreD1 } from "./faults";
import { PROVIDERS, type Real } from "./knobs";
import { fingerprintOf, LedgerModel } from "./model";

export async function setup(): Promise<{ model: LedgerModel; real: Real }> {
  const accountId = newId("acct");
  const model = new LedgerModel(accountId);
  const real: Real = { accountId, stub: ledger(accountId) };
  expect(await real.stub.open({ accountId, currency: "USD", actor: "operator" })).toEqual({ ok: true, account_id: accountId, currency: "USD" });
  model.pushAudit({ event: "account_opened", outcome: "ok", reason: "USD" });
  for (let k = 0; k < 3; k++) {
    const key = { id: newId("ak"), hash: `hash_${randomToken(32)}`, revoked: false };
    expect(await real.stub.createAgentKey({ id: key.id, name: `sim-${k}`, keyHash: key.hash, actor: "owner" })).toMatchObject({ ok: true });
    model.keys.push(key);
    model.pushAudit({ event: "key_created", outcome: "ok", reason: "no_mandate" });
  }
  await real.stub.revokeAgentKey({ id: model.keys[2]!.id, actor: "owner" });
  model.revoke(2);
  // An opening balance, so that holds are common from the first step ("all"/"over" still reach 0).
  model.credit(20_000, "opening", null);
  const opened = await real.stub.credit({
    actor: "operator",
    amount: 20_000,
    reference: "opening",
    idempotencyKey: null,
    fingerprint: fingerprintOf(20_000, "opening"),
  });
  if (!opened.ok) throw new Error("opening credit failed");
  model.journal[0]!.id = opened.transfer.id;
  // And an opening charge, so that refunds and disputes have something to act on from the first step.
  const requestId = newId("req");
  const charge = { keyHash: model.keys[0]!.hash, requestId, serviceId: "svc_sim", providerId: PROVIDERS[0], feeBps: 250, amount: 1_000 };
  const held = await real.stub.reserve({ ...charge, currency: "USD", ttlMs: 60_000 });
  if (!held.ok || model.reserve(0, 1_000, requestId, null).kind !== "ok") throw new Error("opening reserve failed");
  const hold = model.addHold({ id: held.hold_id, requestId, keyIdx: 0, amount: 1_000, feeBps: 250, providerId: PROVIDERS[0], tiny: false }, null);
  expectCapture(model, model.capture(hold, 1_000), await real.stub.capture({ holdId: hold.id, amount: 1_000 }), hold, 1_000);
  return { model, real };
}

/**
 * After the last step: every pending hold is settled (captured in part, or voided), D1 comes back,
 * a crash, two alarms; everything lands exactly once.
 */
export async function recover(m: LedgerModel, r: Real): Promise<void> {
  for (const [i, hold] of m.holds.filter((h) => h.state === "pending").entries()) {
    if (i % 3 === 2) {
      m.void(hold, "settled_at_end");
      expect(await r.stub.release({ holdId: hold.id, reason: "settled_at_end" })).toMatchObject({ ok: true, hold: { state: "voided" } });
    } else {
      const amount = Math.ceil(hold.amount / (i + 1));
      const expected = m.capture(hold, amount);
      expectCapture(m, expected, await r.stub.capture({ holdId: hold.id, amount }), hold, amount);
    }
  }
  await restoreD1(m);
  await crash(r, "evict");
  await checkAll(m, r, (await alarmStep(m, r, "scheduled", true)) ?? {});
}
