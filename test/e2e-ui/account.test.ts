/**
 * What a new user meets around their account: changing their password from the header (Gotify's
 * `#changepw`), the keyboard in dialogs, and every page fitting a phone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, openBrowser, screenshot, waitForHeading, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';

let flow: UiServer;
let ui: UiBrowser;

beforeAll(async () => {
  flow = await startUiServer(['echo']);
  ui = await openBrowser(flow.uiUrl);
});
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

/** Fills the login form and presses Enter, the way a keyboard user logs in. */
async function submitLogin(username: string, password: string): Promise<void> {
  await ui.page.locator('input[name="username"]').fill(username);
  await ui.page.locator('input[name="password"]').fill(password);
  await ui.page.locator('input[name="password"]').press('Enter');
}

describe('change password', () => {
  it('changes the password of a non-admin, whose old password then stops working', async () => {
    const dana = await flow.server.createUser('dana', 'old-secret');
    await login(ui.page, flow.uiUrl, dana.name, dana.pass);
    const page = ui.page;
    await page.locator('#changepw').click();
    const dialog = page.locator('#changepw-dialog');
    // Focus is in the first field, so the user can type at once.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('newpass');

    // Enter on an empty form explains instead of doing nothing.
    await page.keyboard.press('Enter');
    await dialog.getByRole('alert').filter({ hasText: 'must not be empty' }).waitFor();

    await page.keyboard.type('new-secret');
    await dialog.locator('.confirmpass input').fill('typo');
    await dialog.locator('.confirmpass input').press('Enter');
    await dialog.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await screenshot(page, 'change-password-mismatch');

    await dialog.locator('.confirmpass input').fill('new-secret');
    await dialog.locator('button.change').click();
    await page.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();
    await dialog.waitFor({ state: 'detached' });

    await page.locator('#logout').click();
    await waitForHeading(page, 'Login');
    await submitLogin('dana', 'old-secret');
    await page.locator('#login-form [role="alert"]').filter({ hasText: 'wrong user name or password' }).waitFor();
    await submitLogin('dana', 'new-secret');
    await waitForHeading(page, 'All Messages');
    expect(ui.pageErrors).toEqual([]);
  });

  it('is in the header for admins too, and Escape closes it without a change', async () => {
    await ui.page.locator('#logout').click();
    await login(ui.page, flow.uiUrl);
    await ui.page.locator('#changepw').click();
    await ui.page.locator('#changepw-dialog .newpass input').fill('not-saved');
    await ui.page.keyboard.press('Escape');
    await ui.page.locator('#changepw-dialog').waitFor({ state: 'detached' });
    expect((await flow.server.api('GET', '/current/user', { auth: flow.server.adminAuth })).status).toBe(200);
  });
});

describe('keyboard', () => {
  it('creates an application with the keyboard alone: typing goes into the dialog at once', async () => {
    await ui.page.locator('#navigate-apps').click();
    await waitForHeading(ui.page, 'Applications');
    await ui.page.locator('#create-app').press('Enter');
    await ui.page.keyboard.type('typed');
    await ui.page.keyboard.press('Enter');
    await ui.page.locator('#app-table td.name', { hasText: 'typed' }).waitFor();
    await ui.page.locator('#app-dialog').waitFor({ state: 'detached' });
    const apps = (await flow.server.api('GET', '/application', { auth: flow.server.adminAuth })).body as { name: string }[];
    expect(apps.filter((a) => a.name === 'typed')).toHaveLength(1);
  });

  it('shows a send example that works with a copied token', async () => {
    await ui.page.locator('#app-table tr', { hasText: 'typed' }).locator('.copy-secret').click();
    const token = await ui.page.evaluate(() => navigator.clipboard.readText());
    const example = (await ui.page.locator('.send-example').textContent())!;
    // curl "<url>?token=<token>" -F "title=Hello" -F "message=It works", sent the way curl sends it.
    const url = /curl "([^"]+)"/.exec(example)![1]!.replace('<token>', token);
    const form = new FormData();
    for (const [, key, value] of example.matchAll(/-F "(\w+)=([^"]*)"/g)) form.append(key!, value!);
    expect((await fetch(url, { method: 'POST', body: form })).status).toBe(200);
    await ui.page.locator('#message-navigation a.all').click();
    await ui.page.locator('#messages .message .title', { hasText: 'Hello' }).waitFor();
  });
});

describe('phone screen', () => {
  it('fits the applications table and the plugin page into 375 px', async () => {
    await ui.page.setViewportSize({ width: 375, height: 740 });
    try {
      const overflow = () => ui.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await ui.page.locator('#navigate-apps').click();
      await ui.page.locator('#app-table td.name', { hasText: 'typed' }).waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await screenshot(ui.page, 'applications-phone');
      await ui.page.locator('#navigate-plugins').click();
      await ui.page.locator('#plugin-table .details-button').first().click();
      await ui.page.locator('.plugin-info .name > span').waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await ui.page.locator('#changepw').waitFor();
      await screenshot(ui.page, 'plugin-detail-phone');
    } finally {
      await ui.page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});
