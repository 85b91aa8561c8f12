/**
 * Reserves (amounts up to and over what is available, live, revoked and unknown keys, proxied-call
 * idempotency keys, bursts that race for the balance), expiries (a 1 ms hold, or time passing for
 * several holds, then the alarm) and key revocation.
 */
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { AccountLedger } from "../../durable-objects/account";
import { newId } from "../../core/ids";
import { keyOf } from "../durable-objects/helpers";
import { alarmStep } from "./faults";
import { count, FEES, type Outcome, PROVIDERS, type Real, UNKNOWN_KEY_HASH } from "./knobs";
import type { LedgerModel } from "./model";
import type { AuditExpect, ModelHold } from "./model-types";
import { type AmountSpec, resolve, Step, showSpec } from "./step";

function keyHash(m: LedgerModel, keyIdx: number): string {
  return m.keys[keyIdx]?.hash ?? UNKNOWN_KEY_HASH;
}

export class Reserve extends Step {
  constructor(
    readonly keyIdx: number,
    readonly spec: AmountSpec,
    readonly feeIdx: number,
    readonly providerIdx: number,
    readonly idemKey: string | null,
    readonly tiny = false,
    /** Which call the idempotency key is sent with: the same call again, or another one. */
    readonly call = "a",
  ) {
    super();
  }
  protected async act(m: LedgerModel, r: Real): Promise<Outcome> {
    await this.reserve(m, r);
  }
  protected async reserve(m: LedgerModel, r: Real): Promise<ModelHold | null> {
    const amount = resolve(this.spec, m.available);
    const requestId = newId("req");
    const idem = this.idemKey ? { key: this.idemKey, fingerprint: `call:${this.call}` } : null;
    const feeBps = FEES[this.feeIdx] as number;
    const providerId = PROVIDERS[this.providerIdx] as string;
    const expected = m.reserve(this.keyIdx, amount, requestId, idem);
    const res = await r.stub.reserve({
      keyHash: keyHash(m, this.keyIdx),
      requestId,
      serviceId: "svc_sim",
      providerId,
      feeBps,
      amount,
      currency: "USD",
      ttlMs: this.tiny ? 1 : 60_000,
      idempotency: idem,
    });
    count(`reserve:${expected.kind}`);
    switch (expected.kind) {
      case "ok": {
        expect(res).toMatchObject({ ok: true, amount, available: expected.available, currency: "USD", agent_key_id: m.keys[this.keyIdx]?.id });
        if (!res.ok) throw new Error("unreachable");
        return m.addHold({ id: res.hold_id, requestId, keyIdx: this.keyIdx, amount, feeBps, providerId, tiny: this.tiny }, idem);
      }
      case "insufficient_funds":
        expect(res, "no overdraft (I2)").toEqual({ ok: false, code: "insufficient_funds", price: amount, available: expected.available, currency: "USD" });
        return null;
      case "idempotency_replay":
        expect(res).toEqual({ ok: false, code: "idempotency_replay", response: expected.response });
        return null;
      default:
        expect(res).toEqual({ ok: false, code: expected.kind });
        return null;
    }
  }
  toString() {
    return `Reserve(key=${this.keyIdx},${showSpec(this.spec)},fee=${FEES[this.feeIdx]},${PROVIDERS[this.providerIdx]}${this.idemKey ? `,idem=${this.idemKey}/${this.call}` : ""})`;
  }
}

/** Time passes: a 1 ms hold, then the alarm expires it (and exports). */
export class ReserveThenExpire extends Reserve {
  constructor(
    keyIdx: number,
    spec: AmountSpec,
    readonly how: "scheduled" | "direct",
  ) {
    super(keyIdx, spec, 0, 0, null, true);
  }
  protected override async act(m: LedgerModel, r: Real): Promise<Outcome> {
    const hold = await this.reserve(m, r);
    const outcome = await alarmStep(m, r, this.how, false);
    if (hold) expect(await r.stub.hold(hold.id), "an overdue hold expires (I10)").toMatchObject({ state: "expired", reason: "hold_timeout" });
    return outcome;
  }
  override toString() {
    return `ReserveThenExpire(key=${this.keyIdx},${showSpec(this.spec)},${this.how})`;
  }
}

/** Time passes for some pending holds (their expiry moves into the past), then the alarm runs. */
export class TimePasses extends Step {
  constructor(
    readonly picks: number[],
    readonly how: "scheduled" | "direct",
  ) {
    super();
  }
  override check(m: Readonly<LedgerModel>) {
    return m.holds.some((h) => h.state === "pending");
  }
  protected async act(m: LedgerModel, r: Real): Promise<Outcome> {
    const pending = m.holds.filter((h) => h.state === "pending");
    const due = [...new Set(this.picks.map((p) => pending[p % pending.length] as ModelHold))];
    await runInDurableObject(r.stub, (_i: AccountLedger, state) => {
      for (const h of due) state.storage.sql.exec("UPDATE holds SET expires_at = ? WHERE id = ?", Date.now() - 1, h.id);
    });
    for (const h of due) h.tiny = true;
    const outcome = await alarmStep(m, r, this.how, false);
    for (const h of due) expect(await r.stub.hold(h.id), "an overdue hold expires (I10)").toMatchObject({ state: "expired", reason: "hold_timeout" });
    return outcome;
  }
  toString() {
    return `TimePasses(${this.picks.map((p) => `hold#${p}`).join(",")},${this.how})`;
  }
}

/** Racing reserves of one amount: exactly as many succeed as the balance covers (I2). */
export class ReserveBurst extends Step {
  constructor(
    readonly n: number,
    readonly spec: AmountSpec,
  ) {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    const amount = resolve(this.spec, m.available);
    const fits = amount === 0 ? this.n : Math.min(this.n, Math.floor(m.available / amount));
    const requestIds = Array.from({ length: this.n }, () => newId("req"));
    const results = await Promise.all(
      requestIds.map((requestId) =>
        r.stub.reserve({
          keyHash: keyHash(m, 0),
          requestId,
          serviceId: "svc_sim",
          providerId: PROVIDERS[0],
          feeBps: 0,
          amount,
          currency: "USD",
          ttlMs: 60_000,
        }),
      ),
    );
    expect(
      results.filter((x) => x.ok),
      "racing reserves",
    ).toHaveLength(fits);
    const events: AuditExpect[] = [];
    results.forEach((res, k) => {
      const requestId = requestIds[k] as string;
      if (res.ok) {
        m.addHold({ id: res.hold_id, requestId, keyIdx: 0, amount, feeBps: 0, providerId: PROVIDERS[0], tiny: false }, null, false);
        events.push({ event: "hold", outcome: "accepted", amount, request_id: requestId, reason: "no_mandate" });
      } else {
        expect(res).toMatchObject({ ok: false, code: "insufficient_funds" });
        events.push({ event: "hold", outcome: "refused", amount, request_id: requestId, reason: "insufficient_funds" });
      }
    });
    m.audit.push({ unordered: events });
  }
  toString() {
    return `ReserveBurst(${this.n}x${showSpec(this.spec)})`;
  }
}

export class RevokeKey extends Step {
  constructor(readonly keyIdx: number) {
    super();
  }
  protected async act(m: LedgerModel, r: Real) {
    const key = m.keys[this.keyIdx]!;
    m.revoke(this.keyIdx);
    expect(keyOf(await r.stub.revokeAgentKey({ id: key.id, actor: "owner" }))).toMatchObject({ id: key.id, revoked_at: expect.any(String) });
  }
  toString() {
    return `RevokeKey(${this.keyIdx})`;
  }
}
