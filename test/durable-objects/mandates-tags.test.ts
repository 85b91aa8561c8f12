import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { inLedger, testEnv } from "./helpers";
import { bound, reserveOk } from "./mandate-helpers";

// Cost-allocation tags of a mandate's calls, from the hold to D1's transfer and legs.

describe("cost-allocation tags", () => {
  it("the call's tags and the mandate's (which win) are kept on the hold, the capture and D1's transfer and legs", async () => {
    const acct = await bound(1_000, { tags: { team: "growth", cost: "c1" } });
    const a = await reserveOk(acct, 20, { tags: { team: "hacked", session: "s1" } });
    const tags = { team: "growth", cost: "c1", session: "s1" };
    expect((await acct.stub.hold(a))?.tags).toEqual(tags);
    const captured = await acct.stub.capture({ holdId: a, amount: 20 });
    expect(captured.ok && captured.transfer?.tags).toEqual(tags);
    if (!(await runDurableObjectAlarm(acct.stub))) await inLedger(acct.stub, (instance) => instance.alarm());
    const t = await testEnv.DB.prepare("SELECT tags, mandate_id FROM transfers WHERE account_id = ? AND kind = 'capture'")
      .bind(acct.id)
      .all<{ tags: string; mandate_id: string }>();
    expect(t.results.map((r) => ({ tags: JSON.parse(r.tags), mandate_id: r.mandate_id }))).toEqual([{ tags, mandate_id: acct.mandate.id }]);
    const legs = await testEnv.DB.prepare(
      "SELECT l.tags FROM ledger_entries l JOIN transfers t ON t.id = l.transfer_id WHERE l.account_id = ? AND t.kind = 'capture' ORDER BY l.leg",
    )
      .bind(acct.id)
      .all<{ tags: string }>();
    expect(legs.results.map((r) => JSON.parse(r.tags))).toEqual([tags, tags]);
  });

  it("no tags anywhere: null on the hold and the transfer", async () => {
    const acct = await bound(1_000);
    const a = await reserveOk(acct, 1);
    expect((await acct.stub.hold(a))?.tags).toBeNull();
    const captured = await acct.stub.capture({ holdId: a, amount: 1 });
    expect(captured.ok && captured.transfer?.tags).toBeNull();
  });
});
