import { describe, expect, it } from "vitest";
import { gatewayWithOrigin } from "../e2e/harness.ts";
import { browserAvailable, browserForFile, newUser, signIn } from "./browser.ts";

const run = browserAvailable();
const w = gatewayWithOrigin();
const b = browserForFile();

describe.runIf(run)("smoke", () => {
  it("signs in", async () => {
    const { gw, api } = w;
    const acct = await api("POST", "/v1/accounts", gw.operatorToken, { name: "Smoke <b>co</b>", currency: "USD" });
    await api("POST", `/v1/accounts/${acct.body.id}/credits`, gw.operatorToken, { amount: 12_500_000 });
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, acct.body.owner_key);
    console.log(page.url());
    const html = await page.content();
    console.log(html.slice(0, 4000));
    expect(await page.locator("[data-testid=balance] b").first().textContent()).toBe("12.50 USD");
  });
});
