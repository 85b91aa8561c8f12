/**
 * The provider's dashboard in a real browser (headless Chromium) against `wrangler dev`: sign up
 * (when the gateway has POST /v1/signup), create a service through the form (its JSON refused
 * field by field first), see the price list agents read and the SDK snippet; an agent pays for
 * calls through the proxy and the provider sees them in the earnings chart and the charges list
 * (to the micro-unit), refunds one, answers disputes the owner opened, reads payouts and
 * statements. Then the refusals: an owner key gets 404 on the provider's pages (and a provider on
 * the owner's), and a POST without the CSRF token is 403 and changes nothing.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { money } from "../../worker/dashboard/format.ts";
import { eventually, gatewayWithOrigin } from "../e2e/harness.ts";
import { browserAvailable, browserForFile, newUser, screenshot, signIn } from "./browser.ts";

const run = browserAvailable();
// Open sign-up where the gateway has it; earnings are payable at once, so a payout can be recorded.
const w = gatewayWithOrigin({ OPEN_SIGNUP: "true", PAYOUT_DELAY_S: "0" });
const b = browserForFile();

const PRICE = 1_250_000; // 1.25 USD a call
const CALLS = 3;

type World = { providerId: string; providerKey: string; accountId: string; ownerKey: string; agentKey: string };

async function setUp(): Promise<World> {
  const { gw, api } = w;
  const prov = await api("POST", "/v1/providers", gw.operatorToken, { name: "Echo <i>Works</i>" });
  expect(prov.status, JSON.stringify(prov.body)).toBe(201);
  const acct = await api("POST", "/v1/accounts", gw.operatorToken, { name: "Payer", currency: "USD" });
  await api("POST", `/v1/accounts/${acct.body.id}/credits`, gw.operatorToken, { amount: 20_000_000, reference: "wire 7" });
  const agent = await api("POST", `/v1/accounts/${acct.body.id}/agent-keys`, acct.body.owner_key, { name: "bot" });
  expect(agent.status, JSON.stringify(agent.body)).toBe(201);
  return { providerId: prov.body.id, providerKey: prov.body.api_key, accountId: acct.body.id, ownerKey: acct.body.owner_key, agentKey: agent.body.key };
}

/** Follows the dashboard's menu. */
const nav = (page: Page, name: string) => page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name }).click();

/** Form fields a screen reader could not name: neither a <label> nor an aria-label. */
function unlabeledFields(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
    .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
    .map((el) => el.outerHTML)`);
}

/** Fills the create-service form (on whatever page shows it) and submits it; the response's status. */
async function submitService(page: Page, f: { slug: string; name: string; origin: string; prices: string; plans?: string }): Promise<number> {
  await page.getByLabel("Slug").fill(f.slug);
  await page.getByLabel("Name", { exact: true }).fill(f.name);
  await page.getByLabel("Origin URL").fill(f.origin);
  await page.getByLabel("Prices (JSON)").fill(f.prices);
  await page.getByLabel("Plans (JSON, optional)").fill(f.plans ?? "");
  const answer = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/dashboard/provider/services"));
  await page.getByRole("button", { name: "Create service" }).click();
  const status = (await answer).status();
  await page.waitForLoadState("domcontentloaded");
  return status;
}

describe.runIf(run)("provider dashboard in a browser", () => {
  let world: World;
  let serviceId = "";
  let slug = "";

  it("signs up, sees its key once, is signed in on the create-service form, and creates a service", async (ctx) => {
    const { gw, origin } = w;
    const { page } = await newUser(b.browser);
    await page.goto(`${gw.url}/dashboard/signup`);
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "provider-signup");
    await page.getByLabel("Your company or name").fill("Signup <b>Co</b>");
    await page.getByLabel("Email").fill("ops@signup.example");
    const answer = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/dashboard/signup"));
    await page.getByRole("button", { name: "Sign up" }).click();
    const status = (await answer).status();
    if (status === 404) {
      console.warn("Skipping the sign-up test: this gateway has no POST /v1/signup (the dashboard answered 404, “Sign-up is not available”).");
      expect(await page.locator(".error").textContent()).toContain("Sign-up is not available");
      ctx.skip();
    }
    expect(status).toBe(201);
    const key = ((await page.locator("[data-testid=new-key]").textContent()) ?? "").trim();
    expect(key).toMatch(/^tg_prov_/);
    expect(await page.locator("h1").textContent()).toBe("Create a service");
    expect((await page.context().cookies()).find((c) => c.name === "tg_dashboard")).toBeTruthy();
    // Signed in with that key: the service is created under the new provider.
    const s = `signup-${Date.now().toString(36)}`;
    expect(await submitService(page, { slug: s, name: "Signed up", origin: origin.url, prices: '[{ "per_call": 10000 }]' })).toBe(303);
    expect(await page.locator("[data-testid=snippet-code]").textContent()).toContain("verifyTollgateRequest");
    expect(await page.locator("[data-testid=price-rule]").first().textContent()).toBe("Every call: 0.01 USD a call");
    const mine = await w.api("GET", "/v1/services", key);
    expect(mine.body.data.map((x: { slug: string }) => x.slug)).toEqual([s]);
    // The key was on that one response only.
    await page.goto(`${gw.url}/dashboard/provider`);
    expect(await page.content()).not.toContain(key);
  });

  it("creates a service through the form (JSON refused field by field first), sees the price list and the SDK snippet", async () => {
    world = await setUp();
    const { gw, origin, api } = w;
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, world.providerKey);
    expect(new URL(page.url()).pathname).toBe("/dashboard/provider");
    await nav(page, "Services");
    await page.getByRole("link", { name: "Create a service" }).click();
    expect(await unlabeledFields(page)).toEqual([]);
    slug = `prov-${Date.now().toString(36)}`;

    // Not JSON: refused before the API, on the prices field; the form comes back as typed.
    expect(await submitService(page, { slug, name: "Echo", origin: origin.url, prices: "[{ per_call: 1 }" })).toBe(400);
    expect(await page.locator("[data-field-error=prices]").textContent()).toContain("not valid JSON");
    expect(await page.getByLabel("Slug").inputValue()).toBe(slug);
    // JSON the API refuses: each of its errors beside its own field, with the API's status.
    expect(
      await submitService(page, {
        slug: "Bad Slug!",
        name: "Echo",
        origin: origin.url,
        prices: '[{ "per_call": -5 }]',
        plans: '[{ "name": "x", "price": 1 }]',
      }),
    ).toBe(400);
    expect(await page.locator("[data-field-error=slug]").textContent()).toContain("a-z, 0-9");
    expect(await page.locator("[data-field-error=prices]").textContent()).toMatch(/^0\.per_call: /);
    expect(await page.locator("[data-field-error=plans]").textContent()).toContain("a plan needs duration_s, calls or both");
    expect(await page.locator("#svc-prices").getAttribute("aria-invalid")).toBe("true");
    expect((await api("GET", "/v1/services", world.providerKey)).body.data).toEqual([]);

    expect(
      await submitService(page, {
        slug,
        name: "Echo <script>x</script>",
        origin: origin.url,
        prices: `[{ "per_call": ${PRICE} }]`,
        plans: '[{ "name": "Hundred", "price": 4000000, "calls": 100 }]',
      }),
    ).toBe(303);
    expect(await page.locator(".notice").textContent()).toContain("The service is created");
    serviceId = new URL(page.url()).pathname.split("/").pop() ?? "";
    expect(serviceId).toMatch(/^svc_/);
    expect(await page.locator("h1").textContent()).toBe("Service: Echo <script>x</script>");
    expect(await page.locator("h1 script").count()).toBe(0);
    // The price list as an agent reads it (the public route, unauthenticated), in words and JSON.
    const pricing = await api("GET", `/v1/services/${serviceId}/pricing`, null);
    expect(JSON.parse((await page.locator("[data-testid=pricing-json]").textContent()) ?? "")).toEqual(pricing.body);
    expect(await page.locator("[data-testid=price-rule]").textContent()).toBe("Every call: 1.25 USD a call");
    expect(await page.locator("[data-testid=plan]").textContent()).toBe("Plan “Hundred”: 4.00 USD, 100 calls");
    // The SDK snippet, for this service and this gateway.
    expect(await page.locator("[data-testid=snippet-install]").textContent()).toBe("npm install @tollgate/sdk");
    const code = (await page.locator("[data-testid=snippet-code]").textContent()) ?? "";
    expect(code).toContain('import { verifyTollgateRequest } from "@tollgate/sdk";');
    expect(code).toContain(`serviceId: "${serviceId}"`);
    expect(code).toContain(`jwksUrl: "${gw.url}/.well-known/`);
    const jwksUrl = /jwksUrl: "([^"]+)"/.exec(code)?.[1] ?? "";
    const jwks = await fetch(jwksUrl);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "provider-service-created");
    // Phone width: the snippet wraps, nothing pushes the page sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Edit: a new price, and the plan dropped; the API's answer is what the page shows next.
    await page.getByLabel("Prices (JSON)").fill(`[{ "match": { "path": "/dear/*" }, "per_call": 2000000 }, { "per_call": ${PRICE} }]`);
    await page.getByLabel("Plans (JSON)").fill("[]");
    await page.getByRole("button", { name: "Save changes" }).click();
    expect(await page.locator(".notice").textContent()).toContain("The service is updated");
    expect(await page.locator("[data-testid=price-rule]").count()).toBe(2);
    const stored = await api("GET", `/v1/services/${serviceId}`, world.providerKey);
    expect(stored.body.prices).toHaveLength(2);
    expect(stored.body.plans).toEqual([]);
    // A refused edit keeps the service as it was.
    await page.getByLabel("Prices (JSON)").fill("[]");
    const refused = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith(`/dashboard/provider/services/${serviceId}`));
    await page.getByRole("button", { name: "Save changes" }).click();
    expect((await refused).status()).toBe(400);
    expect(await page.locator("[data-field-error=prices]").textContent()).toContain("at least one price rule");
    expect((await api("GET", `/v1/services/${serviceId}`, world.providerKey)).body.prices).toHaveLength(2);
  });

  it("an agent's paid calls show in the earnings chart and the charges list; a charge is refunded in part", async () => {
    const { gw, api } = w;
    for (let i = 0; i < CALLS; i++) {
      const res = await fetch(`${gw.url}/s/${slug}/echo?n=${i}`, { headers: { authorization: `Bearer ${world.agentKey}` } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, world.providerKey);
    const captures = page.locator('[data-testid=charges] tr[data-kind="capture"]');
    await eventually(
      async () => {
        await page.goto(`${gw.url}/dashboard/provider`);
        return captures.count();
      },
      (n) => expect(n).toBe(CALLS),
      20_000,
    );
    // What the API says the provider earned: each charge less the platform's fee.
    const settled = (await api("GET", `/v1/services/${serviceId}/transfers`, world.providerKey)).body.data as { amount: number; fee: number }[];
    expect(settled.map((t) => t.amount)).toEqual([PRICE, PRICE, PRICE]);
    const earned = settled.reduce((sum, t) => sum + t.amount - t.fee, 0);
    for (let i = 0; i < CALLS; i++) {
      expect(await captures.nth(i).locator("td[data-amount]").getAttribute("data-amount")).toBe(String(PRICE));
      expect(await captures.nth(i).locator("td.num").first().textContent()).toBe("1.25 USD");
    }
    expect(await page.locator("[data-testid=earned-USD]").textContent()).toBe(money(earned, "USD"));
    const chart = page.locator('svg[data-chart="Earnings by day, USD"]');
    expect(await chart.getAttribute("role")).toBe("img");
    expect(await chart.locator("g[data-value]").count()).toBe(30);
    const today = new Date().toISOString().slice(5, 10);
    expect(await chart.locator(`g[data-label="${today}"]`).getAttribute("data-value")).toBe(String(earned));
    expect(await page.locator("[data-testid=by-service-USD] tbody tr").first().textContent()).toBe(`Echo <script>x</script>${money(earned, "USD")}`);
    // The balance: all of it pending or available (PAYOUT_DELAY_S = 0 here: available).
    const balance = await api("GET", `/v1/providers/${world.providerId}/balance`, world.providerKey);
    const usd = balance.body.balances.find((x: { currency: string }) => x.currency === "USD");
    expect(await page.locator('[data-testid=balance] tr[data-currency="USD"] [data-field=available]').textContent()).toBe(money(usd.available, "USD"));
    expect(usd.available + usd.pending).toBe(earned);
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "provider-overview");

    // Refund 0.25 of the newest charge from its row.
    const charge = captures.first();
    const chargeId = (await charge.getAttribute("data-transfer-id")) ?? "";
    await charge.getByLabel(`Amount to refund of ${chargeId} (blank: all)`).fill("0.25");
    await charge.getByLabel(`Reason for refunding ${chargeId}`).fill("slow answer");
    await charge.getByRole("button", { name: "Refund" }).click();
    expect(await page.locator(".notice").textContent()).toContain("The refund is made");
    // Refunds are listed from the settled ledger, about a second after the ledger wrote them.
    await eventually(
      async () => (await api("GET", "/v1/refunds", world.providerKey)).body.data,
      (data) => expect(data).toMatchObject([{ transfer_id: chargeId, amount: 250_000, reason: "slow answer" }]),
    );
    // Refunding more than is left: the API's refusal and status, nothing refunded.
    await page.goto(`${gw.url}/dashboard/provider`);
    const again = page.locator(`[data-testid=charges] tr[data-transfer-id="${chargeId}"]`);
    await again.getByLabel(`Amount to refund of ${chargeId} (blank: all)`).fill("5");
    const refused = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/dashboard/provider/refunds"));
    await again.getByRole("button", { name: "Refund" }).click();
    expect((await refused).status()).toBeGreaterThanOrEqual(400);
    expect(await page.locator(".error").count()).toBe(1);
    expect((await api("GET", "/v1/refunds", world.providerKey)).body.data).toHaveLength(1);

    // Phone width: the page fits (tables scroll inside their own box).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${gw.url}/dashboard/provider`);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
  });

  it("answers disputes the owner opened: contests one with evidence, accepts another", async () => {
    const { gw, api } = w;
    const charges = (await api("GET", `/v1/services/${serviceId}/transfers`, world.providerKey)).body.data.filter(
      (t: { kind: string }) => t.kind === "capture",
    ) as { id: string }[];
    const [contested, accepted] = [charges[1]?.id ?? "", charges[2]?.id ?? ""];
    for (const id of [contested, accepted]) {
      const opened = await api("POST", `/v1/accounts/${world.accountId}/disputes`, world.ownerKey, { transfer_id: id, reason: "not_delivered" });
      expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    }
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, world.providerKey);
    await nav(page, "Disputes");
    expect(await page.locator("section[data-dispute-id]").count()).toBe(2);
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "provider-disputes");
    const first = page.locator("section[data-dispute-id]", { hasText: contested });
    await first.getByLabel("Evidence (why the charge stands)").fill("Delivered: see <b>log</b> line 42");
    await first.getByRole("button", { name: "Contest" }).click();
    expect(await page.locator(".notice").textContent()).toContain("You contested the dispute");
    expect(await page.locator("section[data-dispute-id]", { hasText: contested }).locator("[data-testid=evidence]").textContent()).toBe(
      "Delivered: see <b>log</b> line 42",
    );
    await page.locator("section[data-dispute-id]", { hasText: accepted }).getByRole("button", { name: "Accept and refund" }).click();
    expect(await page.locator(".notice").textContent()).toContain("You accepted the dispute");
    const disputes = (await api("GET", "/v1/disputes", world.providerKey)).body.data as { transfer_id: string; status: string; evidence: string | null }[];
    expect(disputes.find((d) => d.transfer_id === contested)).toMatchObject({ status: "open", evidence: "Delivered: see <b>log</b> line 42" });
    expect(disputes.find((d) => d.transfer_id === accepted)).toMatchObject({ status: "accepted" });
  });

  it("shows payouts and the month's statement, on the page and as a CSV download", async () => {
    const { gw, api } = w;
    const paid = await api("POST", `/v1/providers/${world.providerId}/payouts`, gw.operatorToken, { amount: 1_000_000, currency: "USD", reference: "bank 99" });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, world.providerKey);
    await nav(page, "Payouts");
    expect(await page.locator(`tr[data-payout-id="${paid.body.id}"]`).textContent()).toContain("bank 99");
    expect(await page.locator(`tr[data-payout-id="${paid.body.id}"] td.num`).textContent()).toBe("1.00 USD");
    expect(await page.locator('tr[data-currency="USD"] [data-field=paid_out]').textContent()).toBe("1.00 USD");
    const month = new Date().toISOString().slice(0, 7);
    await nav(page, "Statements");
    await page.getByRole("link", { name: `Statement ${month}`, exact: true }).click();
    const statement = await api("GET", `/v1/providers/${world.providerId}/statements/${month}`, world.providerKey);
    const usd = statement.body.currencies.find((x: { currency: string }) => x.currency === "USD");
    expect(await page.locator("tr", { hasText: "Closing balance" }).locator("td.num").textContent()).toBe(money(usd.closing_balance, "USD"));
    const csv = await page.context().request.get(`${gw.url}/dashboard/provider/statements/${month}.csv`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    expect(csv.headers()["content-disposition"]).toContain("attachment");
    const direct = await fetch(`${gw.url}/v1/providers/${world.providerId}/statements/${month}?format=csv`, {
      headers: { authorization: `Bearer ${world.providerKey}` },
    });
    expect(await csv.text()).toBe(await direct.text());
  });

  it("an owner key cannot open a provider page (404), nor a provider an owner page", async () => {
    const { gw } = w;
    const owner = await newUser(b.browser);
    await signIn(owner.page, gw.url, world.ownerKey);
    for (const path of ["/dashboard/provider", "/dashboard/provider/services", `/dashboard/provider/services/${serviceId}`, "/dashboard/provider/disputes"]) {
      const res = await owner.page.goto(`${gw.url}${path}`);
      expect(res?.status(), path).toBe(404);
      expect(await owner.page.content()).not.toContain("Echo");
    }
    const provider = await newUser(b.browser);
    await signIn(provider.page, gw.url, world.providerKey);
    for (const path of ["/dashboard/owner", "/dashboard/owner/transfers"]) {
      expect((await provider.page.goto(`${gw.url}${path}`))?.status(), path).toBe(404);
    }
  });

  it("another provider gets 404 for this provider's service, and its edit changes nothing", async () => {
    const { gw, api } = w;
    const other = await api("POST", "/v1/providers", gw.operatorToken, { name: "Other Ltd" });
    const { context, page } = await newUser(b.browser);
    await signIn(page, gw.url, other.body.api_key);
    expect((await page.goto(`${gw.url}/dashboard/provider/services/${serviceId}`))?.status()).toBe(404);
    expect(await page.content()).not.toContain("Echo");
    await page.goto(`${gw.url}/dashboard/provider/services`);
    const token = (await page.locator('input[name="_csrf"]').first().getAttribute("value")) ?? "";
    const edit = await context.request.post(`${gw.url}/dashboard/provider/services/${serviceId}`, {
      form: { _csrf: token, prices: '[{ "per_call": 1 }]', plans: "[]", hostnames: "" },
      maxRedirects: 0,
    });
    expect(edit.status()).toBe(404);
    expect((await api("GET", `/v1/services/${serviceId}`, world.providerKey)).body.prices[1].per_call).toBe(PRICE);
    const charge = (await api("GET", `/v1/services/${serviceId}/transfers`, world.providerKey)).body.data.find((t: { kind: string }) => t.kind === "capture");
    const refund = await context.request.post(`${gw.url}/dashboard/provider/refunds`, { form: { _csrf: token, transfer_id: charge.id }, maxRedirects: 0 });
    expect(refund.status()).toBe(404);
  });

  it("a POST without the session's CSRF token is refused with 403 and changes nothing", async () => {
    const { gw, api } = w;
    const { context, page } = await newUser(b.browser);
    await signIn(page, gw.url, world.providerKey);
    const before = (await api("GET", "/v1/services", world.providerKey)).body.data.length;
    const refundsBefore = (await api("GET", "/v1/refunds", world.providerKey)).body.data.length;
    const charge = (await api("GET", `/v1/services/${serviceId}/transfers`, world.providerKey)).body.data.find((t: { kind: string }) => t.kind === "capture");
    const forged: [string, Record<string, string>][] = [
      ["/dashboard/provider/services", { slug: "forged-svc", name: "Forged", origin: w.origin.url, prices: '[{ "per_call": 1 }]' }],
      ["/dashboard/provider/services", { slug: "forged-svc", name: "Forged", origin: w.origin.url, prices: '[{ "per_call": 1 }]', _csrf: "0".repeat(64) }],
      [`/dashboard/provider/services/${serviceId}`, { prices: '[{ "per_call": 1 }]' }],
      ["/dashboard/provider/refunds", { transfer_id: charge.id }],
    ];
    for (const [path, form] of forged) {
      const res = await context.request.post(`${gw.url}${path}`, { form, maxRedirects: 0 });
      expect(res.status(), path).toBe(403);
    }
    expect((await api("GET", "/v1/services", world.providerKey)).body.data.length).toBe(before);
    expect((await api("GET", `/v1/services/${serviceId}`, world.providerKey)).body.prices[1].per_call).toBe(PRICE);
    expect((await api("GET", "/v1/refunds", world.providerKey)).body.data.length).toBe(refundsBefore);
  });
});
