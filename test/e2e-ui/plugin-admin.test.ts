/**
 * What administrators manage: the banner while the default admin keeps its default password, and who may use
 * each plugin (everyone, admins, nobody) from the plugins list and the plugin's page, as a user sees it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { login, openBrowser, screenshot, waitForHeading, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';
import { basic, type TestUser } from '../helpers/server.js';
import { waitFor } from '../helpers/plugins.js';

let flow: UiServer;
let ui: UiBrowser;
let bob: TestUser;
let echo: { id: number; modulePath: string; name: string };
let bobContext: BrowserContext;
let bobPage: Page;

beforeAll(async () => {
  flow = await startUiServer(['echo']);
  echo = await waitFor(async () => {
    const list = (await flow.server.api('GET', '/plugin', { auth: flow.server.adminAuth })).body;
    return list.find((p: { modulePath: string }) => p.modulePath.endsWith('/echo'));
  }, 'echo listed');
  bob = await flow.server.createUser('bob', 'bob-secret-pw');
  ui = await openBrowser(flow.uiUrl);
  await login(ui.page, flow.uiUrl);
  // Bob in his own browser context (own localStorage): the same browser, no second launch.
  bobContext = await ui.browser.newContext({ viewport: { width: 1280, height: 800 } });
  bobContext.setDefaultTimeout(10_000);
  bobPage = await bobContext.newPage();
  await login(bobPage, flow.uiUrl, 'bob', 'bob-secret-pw');
});
afterAll(async () => {
  await bobContext?.close();
  await ui?.close();
  await flow?.close();
});

const banner = (page: Page) => page.locator('.default-password-banner');
// By name: each user has their own instance of the plugin, with its own id.
const echoRow = (page: Page) => page.locator('#plugin-table tbody tr').filter({ has: page.locator('td.name', { hasText: echo.name }) });

async function bobSeesEcho(): Promise<boolean> {
  const list = (await flow.server.api('GET', '/plugin', { auth: bob.auth })).body as { modulePath: string }[];
  return list.some((p) => p.modulePath === echo.modulePath);
}

async function openPlugins(page: Page): Promise<void> {
  await page.locator('#navigate-plugins').click();
  await waitForHeading(page, 'Plugins');
  await page.locator('#plugin-table').waitFor();
}

describe('who may use a plugin', () => {
  it('is chosen in the plugins list and the plugin page, and hides the plugin from users who may not', async () => {
    await openPlugins(ui.page);
    await echoRow(ui.page).waitFor();
    const select = echoRow(ui.page).locator('td.permission select');
    expect(await select.inputValue()).toBe('everyone');
    expect(await bobSeesEcho()).toBe(true);
    await openPlugins(bobPage);
    await echoRow(bobPage).waitFor();

    // Admins only: bob's list loses it, his calls get 404.
    await select.selectOption('admins');
    await ui.page.getByRole('status').filter({ hasText: 'Permission saved' }).first().waitFor();
    const stored = (await flow.server.api('GET', '/plugin/permission', { auth: flow.server.adminAuth })).body;
    expect(stored.find((p: { modulePath: string }) => p.modulePath === echo.modulePath).permission).toBe('admins');
    expect(await bobSeesEcho()).toBe(false);
    expect((await flow.server.api('GET', `/plugin/${echo.id}/config`, { auth: bob.auth })).status).toBe(404);
    await bobPage.getByRole('button', { name: 'Refresh' }).click();
    await echoRow(bobPage).waitFor({ state: 'detached' });
    await screenshot(ui.page, 'plugins-permissions');

    // Nobody, from the plugin's page: the admin's own list loses it too, except in "Hidden plugins".
    await echoRow(ui.page).locator('td:nth-child(5) button').click();
    const panel = ui.page.locator('.permission-panel');
    await panel.waitFor();
    expect(await panel.locator('select').inputValue()).toBe('admins');
    await screenshot(ui.page, 'plugin-detail-permission');
    await panel.locator('select').selectOption('nobody');
    await waitForHeading(ui.page, 'Plugins');
    await echoRow(ui.page).waitFor({ state: 'detached' });
    const hidden = ui.page.locator(`.unlisted-plugins li[data-module-path="${echo.modulePath}"]`);
    await hidden.waitFor();
    await screenshot(ui.page, 'plugins-hidden');

    // And back to everyone.
    await hidden.locator('select').selectOption('everyone');
    await echoRow(ui.page).waitFor();
    await hidden.waitFor({ state: 'detached' });
    expect(await bobSeesEcho()).toBe(true);
    await bobPage.getByRole('button', { name: 'Refresh' }).click();
    await echoRow(bobPage).waitFor();
  });

  it('is not offered to users who are not administrators', async () => {
    await openPlugins(bobPage);
    await echoRow(bobPage).waitFor();
    expect(await bobPage.locator('#plugin-table th', { hasText: 'Who may use it' }).count()).toBe(0);
    await echoRow(bobPage).locator('td:nth-child(5) button').click();
    await bobPage.locator('.plugin-info').waitFor();
    expect(await bobPage.locator('.permission-panel').count()).toBe(0);
  });
});

describe('default admin password banner', () => {
  it('is shown to admins while admin/admin works, never to other users', async () => {
    await banner(ui.page).waitFor();
    expect(await banner(ui.page).textContent()).toContain('still has the default password');
    await bobPage.reload();
    await bobPage.locator('#message-navigation').waitFor();
    expect(await banner(bobPage).count()).toBe(0);
  });

  it('goes away once the password is changed from it', async () => {
    await banner(ui.page).getByRole('button', { name: 'Change password' }).click();
    const dialog = ui.page.locator('#changepw-dialog');
    await dialog.locator('.newpass input').fill('a-much-better-password');
    await dialog.locator('.confirmpass input').fill('a-much-better-password');
    await dialog.locator('button.change').click();
    await banner(ui.page).waitFor({ state: 'detached' });
    const me = await flow.server.api('GET', '/current/user', { auth: basic('admin', 'a-much-better-password') });
    expect(me.body.defaultAdminPassword).toBe(false);
    await ui.page.reload();
    await ui.page.locator('#message-navigation').waitFor();
    expect(await banner(ui.page).count()).toBe(0);
    expect(ui.pageErrors).toEqual([]);
  });
});
