/**
 * Seeded, model-based simulation of one AccountLedger (I1–I14 under faults). A hot account's
 * leases between its ledger and its shards (I17) have their own: shards.sim.test.ts.
 *
 * fast-check generates sequences of up to MAX_STEPS operations (step-table.ts) — credits (with
 * idempotency keys, repeated = duplicate delivery, same key with another body, bursts of the same
 * key at once: credit-steps.ts), reserves (amounts up to and over what is available, live, revoked
 * and unknown keys, proxied-call idempotency keys, bursts that race for the balance:
 * reserve-steps.ts), captures (0, part, all, more, twice) and voids (capture-steps.ts), refunds
 * (part, the rest, more than is left), disputes (compensated or not) and their decisions (once, or
 * both ways at once) (dispute-steps.ts), expiries (a 1 ms hold, or time passing for several holds,
 * then the alarm), alarm runs (export, delivered twice), crashes between steps
 * (`abortAllDurableObjects`, `evictDurableObject`; both reach only this test file's objects),
 * crashes *during* a credit, a capture and an export (the caller retries), D1 failing during export
 * (a trigger on one D1 table refuses the account's rows) and lost export cursors (as if the object
 * died after D1 committed) (faults.ts, fault-steps.ts). Each run is a fresh account (world.ts)
 * driven through its real RPC surface, against the reference model in model.ts.
 *
 * After every step, checks.ts compares the real object and D1 with the model: balances, holds,
 * journal, audit chain, export cursors and what D1 holds (I1, I2, I4–I8, I13).
 *
 * Reproducing a failure. fast-check prints, on failure, `seed`, `path` and a counterexample whose
 * command list ends with a comment holding its `replayPath`, e.g. (comment shown as <…>):
 *
 *   Property failed after 7 tests
 *   { seed: 20260702, path: "8:2:1:1", endOnFailure: true }
 *   Counterexample: [BreakD1(transfers),Credit(1,key=null,ref=null),Alarm(scheduled,twice) <replayPath="SCQAj:V">]
 *
 * Run just that case (workerd tests do not see the shell's environment, so vitest.config.mts
 * passes these variables to the test through `provide`):
 *
 *   SIM_SEED=20260702 SIM_PATH="8:2:1:1" SIM_REPLAY_PATH="SCQAj:V" \
 *     npx vitest run --project workers test/simulation
 *
 * or paste them into the defaults in knobs.ts (`fc.assert(..., { seed, path })` and
 * `fc.commands(..., { replayPath })` below read them). Other knobs: SIM_RUNS (runs, default 50) and
 * SIM_STEPS (most steps per run, default 25). After the steps, every run settles its holds,
 * restores D1, crashes once more and runs the alarm twice.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, it, vi } from "vitest";
import { checkAll } from "./checks";
import { restoreD1 } from "./faults";
import { MAX_STEPS, PATH, REPLAY_PATH, RUNS, SEED, stats, tally } from "./knobs";
import { STEPS } from "./step-table";
import { recover, setup } from "./world";

describe("AccountLedger simulation against a reference model", () => {
  beforeAll(() => {
    // The export's own log line while D1 is made to fail; everything else still prints.
    const original = console.error.bind(console);
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].startsWith("export to D1 failed")) return;
      original(...args);
    });
    console.log(`[sim] seed=${SEED} runs=${RUNS} steps≤${MAX_STEPS}${PATH ? ` path=${PATH}` : ""}${REPLAY_PATH ? ` replayPath=${REPLAY_PATH}` : ""}`);
  });
  afterAll(() => {
    vi.restoreAllMocks();
    console.log(`[sim] ${stats.runs} runs, ${stats.steps} steps, ${stats.crashes} crashes, ${stats.alarms} alarm steps`);
    console.log(
      `[sim] outcomes: ${[...tally]
        .sort()
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );
  });

  it("keeps I1–I14 after every step under crashes, duplicate deliveries and D1 failures", { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(STEPS, { maxCommands: MAX_STEPS, size: "max", replayPath: REPLAY_PATH }), async (cmds) => {
        const world = await setup();
        try {
          await checkAll(world.model, world.real, {});
          stats.stepsThisRun = 0;
          await fc.asyncModelRun(() => world, cmds);
          await recover(world.model, world.real);
          stats.runs++;
          stats.steps += stats.stepsThisRun;
          stats.crashes += world.model.crashes;
          stats.alarms += world.model.alarms;
        } finally {
          await restoreD1(world.model);
        }
      }),
      { seed: SEED, numRuns: RUNS, path: PATH, endOnFailure: PATH !== undefined },
    );
  });
});
