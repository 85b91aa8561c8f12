import { beforeAll, describe, expect, it } from "vitest";
import { OPERATOR } from "./helpers";
import { apiWithEnv, earn, earningProvider, legSum, payout, providerBalance } from "./payout-helpers";
import type { RefundWorld } from "./refund-helpers";

let w: RefundWorld;
beforeAll(async () => {
  w = await earningProvider();
});

describe("smoke", () => {
  it("pays out", async () => {
    await earn(w, 2);
    console.log(await providerBalance(w.prov.id));
    console.log(await providerBalance(w.prov.id, {}));
    const r = await payout(w.prov.id, { amount: 1000, currency: "USD", reference: "x" });
    console.log(r);
    const r2 = await payout(w.prov.id, { amount: 1000, currency: "USD" });
    console.log(r2);
    console.log(await providerBalance(w.prov.id), await legSum(w.prov.id));
    console.log((await apiWithEnv({}, `/v1/providers/${w.prov.id}/payouts`, { key: OPERATOR })).body);
    expect(1).toBe(1);
  });
});
