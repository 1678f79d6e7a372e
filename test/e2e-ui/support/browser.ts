/**
 * Browser side of the UI tests: Debian's chromium driven by playwright-core (which never downloads a
 * browser), one context per test file, a screenshot helper and the login steps every file starts with.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Where screenshots go for people to look at (git-ignored). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export interface UiBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors the page produced, for asserting a clean run. */
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Launches chromium with one page. The context may read the clipboard (copy buttons are tested).
 * Chromium's path can be overridden with `FLOW_CHROMIUM` for machines that keep it elsewhere.
 */
export async function openBrowser(origin: string): Promise<UiBrowser> {
  const browser = await chromium.launch({
    executablePath: process.env.FLOW_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(origin).origin });
  // Fail a step well within vitest's 30 s test timeout, so the report names the step that hung.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return {
    browser,
    context,
    page,
    pageErrors,
    async close() {
      await browser.close();
    },
  };
}

/**
 * Saves a screenshot as `test-output/screenshots/<name>.png`: of the full page, or only of the viewport
 * (`fullPage: false`) for a page made very long on purpose (hundreds of messages).
 */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // From the top: a full-page capture of a scrolled page would paint the sticky header mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage });
}

/**
 * Waits (playwright's auto-waiting, default 5 s) until the page title — `main h4`, as Gotify's UI tests
 * read it — is exactly `text`.
 */
export async function waitForHeading(page: Page, text: string): Promise<void> {
  await page.locator('main h4').filter({ hasText: new RegExp(`^${escapeRegExp(text)}$`) }).waitFor();
}

/** Waits until `locator` (a single element) has exactly this text content, trimmed. */
export async function waitForText(locator: Locator, text: string | RegExp): Promise<void> {
  const pattern = typeof text === 'string' ? new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`) : text;
  await locator.filter({ hasText: pattern }).waitFor();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Opens the UI at `url`, logs in through the form and waits for the messages page. */
export async function login(page: Page, url: string, username = 'admin', password = 'admin'): Promise<void> {
  await page.goto(url);
  await waitForHeading(page, 'Login');
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.getByRole('button', { name: 'Login' }).click();
  await waitForHeading(page, 'All Messages');
}
