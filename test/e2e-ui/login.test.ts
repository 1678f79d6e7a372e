import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, openBrowser, screenshot, waitForHeading, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';

let flow: UiServer;
let ui: UiBrowser;

beforeAll(async () => {
  flow = await startUiServer();
  ui = await openBrowser(flow.uiUrl);
});
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

async function webClients(): Promise<{ id: number; name: string; token: string }[]> {
  const res = await flow.server.api('GET', '/client', { auth: flow.server.adminAuth });
  return res.body.filter((c: { name: string }) => c.name === 'Flow Web UI');
}

describe('web UI login', () => {
  it('is served at / and asks to log in', async () => {
    const res = await fetch(flow.uiUrl);
    expect(res.headers.get('content-type')).toContain('text/html');
    await ui.page.goto(flow.uiUrl);
    await waitForHeading(ui.page, 'Login');
    expect(ui.page.url()).toContain('#/login');
    await screenshot(ui.page, 'login');
  });

  it('shows the server error for a wrong password and stays on the login page', async () => {
    await ui.page.locator('input[name="username"]').fill('admin');
    await ui.page.locator('input[name="password"]').fill('wrong');
    await ui.page.getByRole('button', { name: 'Login' }).click();
    const error = ui.page.locator('#login-form [role="alert"]');
    await error.waitFor();
    expect(await error.textContent()).toBe('Unauthorized: wrong user name or password');
    await screenshot(ui.page, 'login-error');
    expect(await webClients()).toEqual([]);
  });

  it('logs in with a session: a client named "Flow Web UI" in an HttpOnly, SameSite cookie, no token in script reach', async () => {
    await login(ui.page, flow.uiUrl);
    const clients = await webClients();
    expect(clients).toHaveLength(1);
    const cookies = await ui.page.context().cookies();
    const cookie = cookies.find((c) => c.name === 'gotify-client-token');
    expect(cookie).toMatchObject({ value: clients[0]!.token, httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await ui.page.evaluate(() => document.cookie)).not.toContain(clients[0]!.token);
    // Neither the token nor the password is kept where script can read it.
    const everything = await ui.page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(everything).not.toContain(clients[0]!.token);
    expect(everything).not.toContain('"admin"');
  });

  it('stays logged in after a reload', async () => {
    await ui.page.reload();
    await waitForHeading(ui.page, 'All Messages');
    await ui.page.locator('#logout').waitFor();
    expect((await ui.page.context().cookies()).some((c) => c.name === 'gotify-client-token')).toBe(true);
  });

  it('deletes its client and clears the cookie on logout', async () => {
    await ui.page.locator('#logout').click();
    await waitForHeading(ui.page, 'Login');
    expect(await webClients()).toEqual([]);
    expect((await ui.page.context().cookies()).some((c) => c.name === 'gotify-client-token')).toBe(false);
  });

  it('hides the Users page from non-admins', async () => {
    const bob = await flow.server.createUser('bob', 'bob-pass');
    await login(ui.page, flow.uiUrl, bob.name, bob.pass);
    await ui.page.locator('#navigate-plugins').waitFor();
    expect(await ui.page.locator('#navigate-users').count()).toBe(0);
    await ui.page.locator('#logout').click();
    await waitForHeading(ui.page, 'Login');
  });

  it('opens the linked page after logging in', async () => {
    const context = await ui.browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${flow.uiUrl}#/clients`);
      await waitForHeading(page, 'Login');
      await page.locator('input[name="username"]').fill('admin');
      await page.locator('input[name="password"]').fill('admin');
      await page.getByRole('button', { name: 'Login' }).click();
      await waitForHeading(page, 'Clients');
      expect(new URL(page.url()).hash).toBe('#/clients');
      await page.locator('#logout').click();
      await waitForHeading(page, 'Login');
    } finally {
      await context.close();
    }
  });

  it('sends the browser back to login when its client is deleted elsewhere', async () => {
    await login(ui.page, flow.uiUrl);
    const [client] = await webClients();
    await flow.server.api('DELETE', `/client/${client!.id}`, { auth: flow.server.adminAuth });
    // Deleting the client closes its stream; the UI notices, finds its token refused and logs out,
    // and says why.
    await waitForHeading(ui.page, 'Login');
    await ui.page.getByRole('alert').filter({ hasText: 'You were logged out' }).waitFor();
    expect(ui.pageErrors).toEqual([]);
  });

  it('says why when the session of an earlier visit is no longer valid, and drops a pre-session token', async () => {
    await ui.page.evaluate(() => {
      localStorage.setItem('flow-client-id', '999');
      localStorage.setItem('gotify-login-key', 'CexpiredTokenXYZ');
    });
    await ui.page.reload();
    await waitForHeading(ui.page, 'Login');
    await ui.page.getByRole('alert').filter({ hasText: 'You were logged out' }).waitFor();
    expect(await ui.page.evaluate(() => localStorage.getItem('gotify-login-key'))).toBeNull();
    expect(await ui.page.evaluate(() => localStorage.getItem('flow-client-id'))).toBeNull();
  });
});
