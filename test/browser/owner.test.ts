/**
 * The owner's dashboard in a real browser (headless Chromium) against `wrangler dev`: sign in
 * with the owner key, create a mandate and an agent key (secret shown once), let the agent make
 * paid calls through the proxy to a real HTTP origin, see them in the spend chart and the
 * transfer list (to the micro-unit), open a dispute from a charge. Then the refusals: a provider
 * key gets 404 on the owner's pages, a POST without the CSRF token is 403 and changes nothing,
 * sign-out kills the cookie (a copy of it too), and a changed owner key ends its sessions.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { eventually, gatewayWithOrigin } from "../e2e/harness.ts";
import { browserAvailable, browserForFile, newUser, screenshot, signIn } from "./browser.ts";

const run = browserAvailable();
const w = gatewayWithOrigin();
const b = browserForFile();

const PRICE = 1_250_000; // 1.25 USD a call
const CALLS = 3;

type World = { slug: string; bigSlug: string; planId: string; accountId: string; ownerKey: string; providerKey: string };

async function setUp(): Promise<World> {
  const { gw, origin, api } = w;
  const prov = await api("POST", "/v1/providers", gw.operatorToken, { name: "Echo Ltd" });
  const slug = `dash-${Date.now().toString(36)}`;
  const svc = await api("POST", "/v1/services", prov.body.api_key, { slug, name: "Echo", origin: origin.url, prices: [{ per_call: PRICE }] });
  expect(svc.status, JSON.stringify(svc.body)).toBe(201);
  // A dearer service: 2.50 a call, over the mandate's 2.00 per call.
  const big = await api("POST", "/v1/services", prov.body.api_key, {
    slug: `${slug}-big`,
    name: "Big echo",
    origin: origin.url,
    prices: [{ per_call: 2_500_000 }],
    // A pass for the passes page: on this service only, so the charges of the cheap one stay per call.
    plans: [{ name: "Monthly hundred", price: 4_000_000, calls: 100, duration_s: 30 * 86_400 }],
  });
  expect(big.status, JSON.stringify(big.body)).toBe(201);
  // The account's name is hostile on purpose: it must come out as text.
  const acct = await api("POST", "/v1/accounts", gw.operatorToken, { name: "Acme <b>Labs</b>", currency: "USD" });
  const credit = await api("POST", `/v1/accounts/${acct.body.id}/credits`, gw.operatorToken, { amount: 20_000_000, reference: "wire 42" });
  expect(credit.status).toBe(201);
  return { slug, bigSlug: `${slug}-big`, planId: big.body.plans[0].id, accountId: acct.body.id, ownerKey: acct.body.owner_key, providerKey: prov.body.api_key };
}

/** A date N days from today (UTC) as YYYY-MM-DD, for the mandate form's date input. */
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

/** Follows the dashboard's menu. */
const nav = (page: Page, name: string) => page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name }).click();

/** Form fields a screen reader could not name: neither a <label> nor an aria-label. */
function unlabeledFields(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
    .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
    .map((el) => el.outerHTML)`);
}

async function csrfOf(page: Page): Promise<string> {
  return (await page.locator('input[name="_csrf"]').first().getAttribute("value")) ?? "";
}

describe.runIf(run)("owner dashboard in a browser", () => {
  let world: World;
  let agentKey = "";

  it("signs in, creates a mandate and an agent key (shown once), sees paid calls in the chart and the journal, disputes one", async () => {
    world = await setUp();
    const { gw } = w;
    const { page } = await newUser(b.browser);

    // Not signed in: the dashboard sends the browser to the sign-in form.
    await page.goto(`${gw.url}/dashboard/owner`);
    expect(new URL(page.url()).pathname).toBe("/dashboard/signin");
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "signin");
    await signIn(page, gw.url, world.ownerKey);
    expect(new URL(page.url()).pathname).toBe("/dashboard/owner");
    // The key is in no URL and no page; the account name is text, not markup.
    expect(page.url()).not.toContain(world.ownerKey);
    expect(await page.content()).not.toContain(world.ownerKey);
    expect(await page.locator("h1").textContent()).toBe("Account: Acme <b>Labs</b>");
    expect(await page.locator("h1 b").count()).toBe(0);
    expect(await page.locator("[data-testid=balance] b").first().textContent()).toBe("20.00 USD");
    expect(await page.locator("table", { hasText: "wire 42" }).locator("td.num").first().textContent()).toBe("20.00 USD");
    // The session cookie: HttpOnly, SameSite=Strict, scoped to /dashboard (not Secure on 127.0.0.1).
    const cookie = (await page.context().cookies()).find((c) => c.name === "tg_dashboard");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/dashboard" });
    expect(cookie?.value).not.toContain(world.ownerKey);

    // A mandate: 10.00 in total, 2.00 a call, tagged team=search.
    await nav(page, "Mandates");
    await page.getByLabel("What agents may do").fill("Search the web for the quarterly report");
    await page.getByLabel("Most in total").fill("10");
    await page.getByLabel("Most per call").fill("2.00");
    await page.getByLabel("Valid until").fill(inDays(30));
    await page.getByLabel("Cost tags on every call").fill("team=search");
    // First with a per-call limit above the total: the API's validation answers, nothing is created.
    await page.getByLabel("Most per call").fill("12");
    const invalid = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/dashboard/owner/mandates"));
    await page.getByRole("button", { name: "Create mandate" }).click();
    expect((await invalid).status()).toBe(400);
    expect(await page.locator(".error").textContent()).toContain("max_per_call: must not exceed max_total");
    expect(await page.locator("tr[data-mandate-id]").count()).toBe(0);
    // The form comes back as typed; only the wrong field needs fixing.
    expect(await page.getByLabel("What agents may do").inputValue()).toBe("Search the web for the quarterly report");
    expect(await page.getByLabel("Cost tags on every call").inputValue()).toBe("team=search");
    await page.getByLabel("Most per call").fill("2.00");
    await page.getByRole("button", { name: "Create mandate" }).click();
    await expect.poll(() => page.locator(".notice").textContent()).toContain("The mandate is created");
    const mandateRow = page.locator("tr[data-mandate-id]");
    expect(await mandateRow.count()).toBe(1);
    expect(await mandateRow.textContent()).toContain("total 10.00 USD, per call 2.00 USD");
    const mandateId = (await mandateRow.getAttribute("data-mandate-id")) ?? "";

    // An agent key bound to the mandate: its secret is on this response only.
    await nav(page, "Agent keys");
    await page.getByLabel("Name", { exact: true }).fill("research-bot");
    await page.getByLabel("Mandate (its limits bind every call of the key)").selectOption(mandateId);
    await page.locator("#new-calls").fill("60");
    await page.getByRole("button", { name: "Create key" }).click();
    agentKey = ((await page.locator("[data-testid=new-key]").textContent()) ?? "").trim();
    expect(agentKey).toMatch(/^tg_agent_[0-9a-z]{20}_[0-9a-z]{32}$/);
    await page.goto(`${gw.url}/dashboard/owner/keys`);
    expect(await page.content()).not.toContain(agentKey);
    const keyRow = page.locator("tr[data-key-id]");
    expect(await keyRow.textContent()).toContain("research-bot");
    expect(await keyRow.textContent()).toContain(mandateId);
    expect(await keyRow.textContent()).toContain("60 calls/min");
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "agent-keys");

    // The agent pays for calls through the proxy, to the real origin.
    for (let i = 0; i < CALLS; i++) {
      const res = await fetch(`${gw.url}/s/${world.slug}/echo?n=${i}`, { headers: { authorization: `Bearer ${agentKey}` } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    // A call over the mandate's per-call limit is refused (and costs nothing); the mandates page counts it.
    const over = await fetch(`${gw.url}/s/${world.bigSlug}/echo`, { headers: { authorization: `Bearer ${agentKey}` } });
    await over.body?.cancel();
    expect(over.status).toBeGreaterThanOrEqual(400);

    // The charges settle into D1 about a second after each call; the overview reads D1.
    await eventually(
      async () => {
        await page.goto(`${gw.url}/dashboard/owner`);
        return page
          .locator("[data-testid=spend-total]")
          .textContent({ timeout: 2_000 })
          .catch(() => "");
      },
      (text) => expect(text).toBe(`Total: 3.75 USD over ${CALLS} calls.`),
      20_000,
    );
    expect(await page.locator("[data-testid=balance] b").first().textContent()).toBe("16.25 USD");
    // The chart: one bar a day for 30 days, today's is the three calls, in micro-units.
    const chart = page.locator('svg[data-chart="Spend by day"]');
    expect(await chart.getAttribute("role")).toBe("img");
    expect(await chart.getAttribute("aria-label")).toContain("total 3.75 USD");
    expect(await chart.locator("g[data-value]").count()).toBe(30);
    const today = new Date().toISOString().slice(5, 10);
    expect(await chart.locator(`g[data-label="${today}"]`).getAttribute("data-value")).toBe(String(CALLS * PRICE));
    expect(await page.locator("table", { hasText: "Service" }).locator("tbody tr").first().textContent()).toContain("3.75 USD");
    const byTag = page.locator("table", { hasText: "Tag: team" });
    expect(await byTag.locator("tbody tr").first().textContent()).toBe(`search${CALLS}3.75 USD`);
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "overview");

    // The journal: three captures of 1.25 each, with their usage, and the credit.
    await nav(page, "Transfers");
    const captures = page.locator('tr[data-kind="capture"]');
    expect(await captures.count()).toBe(CALLS);
    for (let i = 0; i < CALLS; i++) {
      expect(await captures.nth(i).getAttribute("data-amount")).toBe(String(PRICE));
      expect(await captures.nth(i).locator("td.num").textContent()).toBe("−1.25 USD");
    }
    expect(await page.locator('tr[data-kind="credit"] td.num').textContent()).toBe("20.00 USD");
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "transfers");

    // A dispute, opened from the first charge's form.
    const charge = captures.first();
    const chargeId = (await charge.getAttribute("data-transfer-id")) ?? "";
    await charge.locator("summary", { hasText: "Dispute" }).click();
    await charge.getByLabel("Reason").selectOption("not_delivered");
    await charge.getByLabel("What happened (optional)").fill("Empty <script>alert(1)</script> answer");
    await charge.getByRole("button", { name: "Open dispute" }).click();
    expect(new URL(page.url()).pathname).toBe("/dashboard/owner/disputes");
    expect(await page.locator(".notice").textContent()).toContain("The dispute is open");
    const dispute = page.locator(`tr[data-transfer-id="${chargeId}"]`);
    expect(await dispute.textContent()).toContain("not_delivered");
    expect(await dispute.textContent()).toContain("Empty <script>alert(1)</script> answer");
    expect(await dispute.locator("td.num").first().textContent()).toBe("1.25 USD");
    await screenshot(page, "disputes");
    // Disputing it again: the API's refusal, with its status, on the transfers page.
    await nav(page, "Transfers");
    const again = page.locator(`tr[data-transfer-id="${chargeId}"]`);
    await again.locator("summary", { hasText: "Dispute" }).click();
    const refused = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/dashboard/owner/disputes"));
    await again.getByRole("button", { name: "Open dispute" }).click();
    expect((await refused).status()).toBe(409);
    expect(await page.locator(".error").textContent()).toContain("already disputed");
    // And the API agrees: one open dispute on that charge.
    const disputes = await w.api("GET", `/v1/accounts/${world.accountId}/disputes`, world.ownerKey);
    expect(disputes.body.data).toMatchObject([{ transfer_id: chargeId, reason: "not_delivered", status: "open", amount: PRICE }]);

    // The mandates page counts what the mandate allowed and refused.
    await nav(page, "Mandates");
    expect(await page.locator(`tr[data-mandate-id="${mandateId}"]`).textContent()).toContain(`${CALLS} allowed, 1 refused`);
    expect(await unlabeledFields(page)).toEqual([]);
    await screenshot(page, "mandates");

    // The audit trail verifies server-side.
    await nav(page, "Audit trail");
    await eventually(
      async () => {
        await page.getByRole("button", { name: "Verify chain" }).click();
        return (await page.locator("main p[role]").first().textContent()) ?? "";
      },
      (text) => expect(text).toMatch(/^Chain verified: \d+ events/),
    );
    await screenshot(page, "audit");

    // This month's invoice, through the session (the API route wants a bearer key).
    await nav(page, "Invoices");
    await screenshot(page, "invoices");
    const month = new Date().toISOString().slice(0, 7);
    await page.getByRole("link", { name: `Invoice ${month} (HTML)` }).click();
    expect(await page.content()).toContain(`TG-${month.replace("-", "")}`);
    const csv = await page.context().request.get(`${gw.url}/dashboard/invoices/${month}.csv`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toContain("text/csv");

    // Phone width: the page fits (tables scroll inside their own box).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${gw.url}/dashboard/owner`);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await screenshot(page, "overview-phone");
  });

  it("a wrong key, or an agent key, does not sign in (and is not echoed back)", async () => {
    const { gw } = w;
    const { context, page } = await newUser(b.browser);
    const wrong = `${world.ownerKey.slice(0, -4)}zzzz`;
    for (const [key, says] of [
      [wrong, "That key is not valid."],
      [agentKey, "Agent keys cannot sign in"],
    ] as const) {
      await page.goto(`${gw.url}/dashboard/signin`);
      await page.getByLabel("Owner key or provider key").fill(key);
      const answer = page.waitForResponse((r) => r.request().method() === "POST");
      await page.getByRole("button", { name: "Sign in" }).click();
      expect((await answer).status()).toBe(401);
      expect(await page.locator(".error").textContent()).toContain(says);
      expect(await page.content()).not.toContain(key);
      expect((await context.cookies()).find((c) => c.name === "tg_dashboard")).toBeUndefined();
    }
  });

  it("a provider key signs in but cannot open any of the owner's pages (404)", async () => {
    const { gw } = w;
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, world.providerKey);
    for (const path of [
      "/dashboard/owner",
      "/dashboard/owner/transfers",
      "/dashboard/owner/keys",
      `/dashboard/invoices/${new Date().toISOString().slice(0, 7)}.html`,
    ]) {
      const res = await page.goto(`${gw.url}${path}`);
      expect(res?.status(), path).toBe(404);
      expect(await page.content()).not.toContain(world.accountId);
    }
  });

  it("a form POST without the session's CSRF token (or from another origin) is refused with 403 and changes nothing", async () => {
    const { gw, api } = w;
    const { context, page } = await newUser(b.browser);
    await signIn(page, gw.url, world.ownerKey);
    await page.goto(`${gw.url}/dashboard/owner/mandates`);
    const token = await csrfOf(page);
    const before = (await api("GET", `/v1/accounts/${world.accountId}/mandates`, world.ownerKey)).body.data.length;
    const form = { intent: "forged", max_total: "5", max_per_call: "1", valid_until: inDays(5) };
    const attempts: { form: Record<string, string>; headers: Record<string, string> }[] = [
      { form, headers: {} },
      { form: { ...form, _csrf: "0".repeat(64) }, headers: {} },
      { form: { ...form, _csrf: token }, headers: { origin: "https://evil.example" } },
    ];
    for (const a of attempts) {
      const res = await context.request.post(`${gw.url}/dashboard/owner/mandates`, { form: a.form, headers: a.headers, maxRedirects: 0 });
      expect(res.status()).toBe(403);
    }
    const keysBefore = (await api("GET", `/v1/accounts/${world.accountId}/agent-keys`, world.ownerKey)).body.data;
    const revoke = await context.request.post(`${gw.url}/dashboard/owner/keys/${keysBefore[0].id}/revoke`, { form: {}, maxRedirects: 0 });
    expect(revoke.status()).toBe(403);
    expect((await api("GET", `/v1/accounts/${world.accountId}/mandates`, world.ownerKey)).body.data.length).toBe(before);
    expect((await api("GET", `/v1/accounts/${world.accountId}/agent-keys`, world.ownerKey)).body.data[0].revoked_at).toBeNull();
    // The same form with the token does go through (the refusals above were the token's doing).
    const ok = await context.request.post(`${gw.url}/dashboard/owner/mandates`, { form: { ...form, _csrf: token }, maxRedirects: 0 });
    expect(ok.status()).toBe(303);
    expect((await api("GET", `/v1/accounts/${world.accountId}/mandates`, world.ownerKey)).body.data.length).toBe(before + 1);
  });

  it("limits and revocation set on the keys page bind the agent's next call", async () => {
    const { gw, api } = w;
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, world.ownerKey);
    await page.goto(`${gw.url}/dashboard/owner/keys`);
    const row = page.locator("tr[data-key-id]").first();
    const keyId = (await row.getAttribute("data-key-id")) ?? "";
    await row.locator("summary", { hasText: "Set limits" }).click();
    await row.getByLabel("Most calls per minute").fill("");
    await row.getByLabel("Most spend per minute").fill("0.5");
    await row.getByRole("button", { name: "Save limits" }).click();
    expect(await page.locator(".notice").textContent()).toContain("limits are set");
    const keys = (await api("GET", `/v1/accounts/${world.accountId}/agent-keys`, world.ownerKey)).body.data;
    expect(keys.find((k: { id: string }) => k.id === keyId)).toMatchObject({ max_calls_per_minute: null, max_spend_per_minute: 500_000 });
    // 1.25 a call is more than 0.50 a minute: refused, and nothing is charged.
    const balance = async () => (await api("GET", `/v1/accounts/${world.accountId}/balance`, world.ownerKey)).body.available;
    const before = await balance();
    const limited = await fetch(`${gw.url}/s/${world.slug}/echo`, { headers: { authorization: `Bearer ${agentKey}` } });
    await limited.body?.cancel();
    expect(limited.status).toBe(429);
    expect(await balance()).toBe(before);

    await page.locator(`tr[data-key-id="${keyId}"]`).getByRole("button", { name: "Revoke" }).click();
    expect(await page.locator(".notice").textContent()).toContain("The agent key is revoked");
    expect(await page.locator(`tr[data-key-id="${keyId}"]`).textContent()).toContain("revoked");
    const revoked = await fetch(`${gw.url}/s/${world.slug}/echo`, { headers: { authorization: `Bearer ${agentKey}` } });
    await revoked.body?.cancel();
    expect(revoked.status).toBe(401);
  });

  it("the passes page lists the account's pass and stops its renewal", async () => {
    const { gw, api } = w;
    const bought = await api("POST", "/v1/passes", world.ownerKey, { plan_id: world.planId, auto_renew: true });
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, world.ownerKey);
    await nav(page, "Passes");
    const row = page.locator(`tr[data-pass-id="${bought.body.id}"]`);
    expect(await row.textContent()).toContain("Monthly hundred");
    expect(await row.textContent()).toContain("100 of 100");
    expect(await row.locator("td.num").last().textContent()).toBe("4.00 USD");
    await screenshot(page, "passes");
    await row.getByRole("button", { name: "Stop renewal" }).click();
    expect(await page.locator(".notice").textContent()).toContain("will not renew");
    expect(await page.locator(`tr[data-pass-id="${bought.body.id}"]`).textContent()).toContain("does not renew");
    const passes = await api("GET", `/v1/accounts/${world.accountId}/passes`, world.ownerKey);
    expect(passes.body.data).toMatchObject([{ id: bought.body.id, auto_renew: false, status: "active" }]);
  });

  it("sign-out ends the session: the old cookie, replayed, no longer works", async () => {
    const { gw } = w;
    const { context, page } = await newUser(b.browser);
    await signIn(page, gw.url, world.ownerKey);
    const old = (await context.cookies()).find((c) => c.name === "tg_dashboard")?.value ?? "";
    const token = await csrfOf(page);
    const asOld = (path: string, init: RequestInit = {}) =>
      fetch(`${gw.url}${path}`, { ...init, redirect: "manual", headers: { cookie: `tg_dashboard=${old}`, ...(init.headers ?? {}) } });
    expect((await asOld("/dashboard/owner")).status).toBe(200);
    // The cookie is signed: the same session id with a later expiry is refused.
    const [sid, exp, sig] = old.split(".");
    const forged = await fetch(`${gw.url}/dashboard/owner`, {
      redirect: "manual",
      headers: { cookie: `tg_dashboard=${sid}.${Number(exp) + 86_400_000}.${sig}` },
    });
    expect(forged.status).toBe(303);
    await page.getByRole("button", { name: "Sign out" }).click();
    expect(new URL(page.url()).pathname).toBe("/dashboard/signin");
    expect((await context.cookies()).find((c) => c.name === "tg_dashboard")).toBeUndefined();
    const after = await asOld("/dashboard/owner");
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/dashboard/signin");
    const post = await asOld("/dashboard/owner/mandates", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: token, intent: "after sign-out", max_total: "1", max_per_call: "1", valid_until: inDays(2) }).toString(),
    });
    expect(post.status).toBe(403);
  });

  it("a changed owner key ends the sessions it opened", async () => {
    const { gw } = w;
    const { page } = await newUser(b.browser);
    await signIn(page, gw.url, world.ownerKey);
    expect((await page.goto(`${gw.url}/dashboard/owner`))?.status()).toBe(200);
    // As a key rotation would: the account's stored key hash changes.
    await gw.d1(`UPDATE accounts SET owner_key_hash = '${"0".repeat(64)}' WHERE id = '${world.accountId}'`);
    await page.goto(`${gw.url}/dashboard/owner`);
    expect(new URL(page.url()).pathname).toBe("/dashboard/signin");
  });
});
