/** Which steps fast-check generates, and how often (weights by repetition). */
import fc from "fast-check";
import { Capture, type CaptureSpec, KeepResponse, Void } from "./capture-steps";
import { Credit, CreditBurst, RepeatCredit } from "./credit-steps";
import { DecideDispute, OpenDispute, Refund } from "./dispute-steps";
import { Alarm, BreakD1, Crash, CrashDuringAlarm, CrashDuringCapture, CrashDuringCredit, LoseExportCursor, RestoreD1 } from "./fault-steps";
import { PROVIDERS, type Real } from "./knobs";
import type { LedgerModel } from "./model";
import { Reserve, ReserveBurst, ReserveThenExpire, RevokeKey, TimePasses } from "./reserve-steps";
import { amountSpec, holdPick } from "./step";

const nat = fc.nat({ max: 1_000 });
const frac = fc.double({ min: 0, max: 1, noNaN: true });
const creditAmount = fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(1, 100_000, 1_000_000));
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => Array.from({ length: weight }, () => arbitrary);

export const STEPS: fc.Arbitrary<fc.AsyncCommand<LedgerModel, Real>>[] = [
  ...w(
    4,
    fc
      .tuple(creditAmount, fc.option(fc.constantFrom("c1", "c2", "c3"), { freq: 2 }), fc.option(fc.constantFrom("top-up", "invoice-7"), { freq: 2 }))
      .map(([a, k, ref]) => new Credit(a, k, ref)),
  ),
  fc.constant(new RepeatCredit()),
  fc.tuple(fc.integer({ min: 2, max: 8 }), creditAmount).map(([n, a]) => new CreditBurst(n, a)),
  ...w(
    5,
    fc
      .tuple(
        fc.constantFrom(0, 0, 0, 1, 1, 2, 3), // 0, 1 live (1 may get revoked), 2 revoked at setup, 3 never issued
        amountSpec,
        fc.constantFrom(0, 1, 1, 2), // mostly a fee that rounds (250 bps)
        fc.nat({ max: PROVIDERS.length - 1 }),
        fc.option(fc.constantFrom("i1", "i2"), { freq: 3 }),
        fc.constantFrom("a", "a", "a", "b"),
      )
      .map(([k, s, f, p, i, call]) => new Reserve(k, s, f, p, i, false, call)),
  ),
  fc.tuple(fc.integer({ min: 2, max: 10 }), amountSpec).map(([n, s]) => new ReserveBurst(n, s)),
  ...w(
    4,
    fc.tuple(holdPick, fc.constantFrom<CaptureSpec>("zero", "part", "part", "all", "all", "over"), frac).map(([h, s, f]) => new Capture(h, s, f)),
  ),
  ...w(
    2,
    fc.tuple(holdPick, fc.constantFrom("origin_failed", "client_disconnected")).map(([h, why]) => new Void(h, why)),
  ),
  fc
    .tuple(fc.constantFrom(0, 1), amountSpec, fc.constantFrom<"scheduled" | "direct">("scheduled", "direct"))
    .map(([k, s, how]) => new ReserveThenExpire(k, s, how)),
  fc
    .tuple(fc.array(nat, { minLength: 1, maxLength: 4 }), fc.constantFrom<"scheduled" | "direct">("scheduled", "direct"))
    .map(([p, how]) => new TimePasses(p, how)),
  ...w(
    3,
    nat.map((n) => new KeepResponse(n)),
  ),
  fc.constantFrom(1, 2).map((k) => new RevokeKey(k)),
  ...w(
    2,
    fc.tuple(fc.constantFrom<"scheduled" | "direct">("scheduled", "direct"), fc.boolean()).map(([how, twice]) => new Alarm(how, twice)),
  ),
  // Weighted up: they only apply once a capture (or a dispute) exists.
  ...w(
    5,
    fc.tuple(nat, fc.constantFrom<"part" | "rest" | "over">("part", "part", "rest", "over"), frac).map(([n, spec, f]) => new Refund(n, spec, f)),
  ),
  ...w(
    4,
    fc
      .tuple(nat, fc.constantFrom<"unauthorized" | "defective">("unauthorized", "defective"), fc.constantFrom(0, 300, 1_000_000))
      .map(([n, why, limit]) => new OpenDispute(n, why, limit)),
  ),
  ...w(
    4,
    fc.tuple(nat, fc.constantFrom<"payer" | "provider">("payer", "provider"), fc.boolean()).map(([n, who, race]) => new DecideDispute(n, who, race)),
  ),
  fc.constantFrom<"abort" | "evict">("abort", "evict").map((k) => new Crash(k)),
  creditAmount.map((a) => new CrashDuringCredit(a)),
  fc.tuple(nat, frac).map(([h, f]) => new CrashDuringCapture(h, f)),
  fc.constant(new CrashDuringAlarm()),
  frac.map((f) => new LoseExportCursor(f)),
  fc.constantFrom<"transfers" | "ledger_entries" | "audit_events">("transfers", "ledger_entries", "audit_events").map((t) => new BreakD1(t)),
  fc.constant(new RestoreD1()),
];
