/**
 * Headless Chromium for the dashboard tests, driven by playwright-core (no browser download:
 * the system's Debian Chromium at /usr/bin/chromium).
 *
 * Without Chromium the browser suite prints how to install it and skips itself, unless CI=true
 * or REQUIRE_BROWSER=1, when a missing browser fails the run instead of passing silently.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { ROOT } from "../e2e/harness.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const required = process.env.CI === "true" || process.env.REQUIRE_BROWSER === "1";

/** Whether the browser suite runs here; prints why not, and throws when a browser is required. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const how = `No Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH).`;
  if (required) throw new Error(`${how} The browser tests are required here (CI=true or REQUIRE_BROWSER=1).`);
  console.warn(`${how} Skipping the browser tests.`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** One browser per test file, started before its tests and closed after them. */
export function browserForFile(): { browser: Browser } {
  const holder = {} as { browser: Browser };
  beforeAll(async () => {
    holder.browser = await launchChromium();
  });
  afterAll(async () => {
    await holder.browser?.close();
  });
  return holder;
}

/** A fresh browser profile (its own cookies) at desktop width. */
export async function newUser(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return { context, page: await context.newPage() };
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, gatewayUrl: string, key: string): Promise<void> {
  await page.goto(`${gatewayUrl}/dashboard`);
  await page.getByLabel("Owner key or provider key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("domcontentloaded");
}

/** With SCREENSHOTS=1: a full-page PNG into docs/screenshots/ (normal runs leave the tree clean). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS !== "1") return;
  const dir = join(ROOT, "docs", "screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
