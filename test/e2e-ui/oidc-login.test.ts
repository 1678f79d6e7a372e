import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CLIENT_ID, CLIENT_SECRET, startIdp, type Idp } from '../e2e/oidc-idp.js';
import { openBrowser, screenshot, waitForHeading, type UiBrowser } from './support/browser.js';
import { horizontalOverflow, seriousA11yViolations } from './support/checks.js';

/**
 * The login page with OIDC (issue 20): the provider's button when /auth/info says OIDC is on, the
 * whole redirect dance in Chromium against a real provider (oidc-provider), the error page, and
 * the page without the password form when local login is off; at desktop and phone width.
 */

let idp: Idp;
let ui: UiBrowser;
const servers: TestServer[] = [];

async function server(config: Record<string, unknown> = {}): Promise<TestServer> {
  const s = await startTestServer({
    config: { 'oidc.enabled': true, 'oidc.issuer': idp.issuer, 'oidc.clientid': CLIENT_ID, 'oidc.clientsecret': CLIENT_SECRET, ...config },
  });
  servers.push(s);
  idp.register(s.url + '/auth/oidc/callback');
  return s;
}

beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await ui?.close();
  for (const s of servers) await s.close();
  await idp?.close();
});

describe('web UI sign-in with OIDC', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await server();
    ui = await openBrowser(s.url);
  });

  it('shows the provider\'s button beside the password form', async () => {
    await ui.page.goto(s.url + '/');
    await waitForHeading(ui.page, 'Login');
    await ui.page.locator('#oidc-login').waitFor();
    expect(await ui.page.locator('#oidc-login').textContent()).toBe('Sign in with OIDC');
    expect(await ui.page.locator('input[name="password"]').count()).toBe(1);
    expect(await seriousA11yViolations(ui.page)).toEqual([]);
    await screenshot(ui.page, 'login-oidc');
  });

  it('signs in through the provider and lands on the messages, signed in with an HttpOnly session cookie', async () => {
    idp.loginAs = 'alice';
    await ui.page.locator('#oidc-login').click();
    await waitForHeading(ui.page, 'All Messages');
    expect(await ui.page.locator('.user-name').textContent()).toContain('alice');
    // The fragment naming the session's client was replaced by the messages route.
    expect(new URL(ui.page.url()).hash).toBe('#/');
    const cookie = (await ui.page.context().cookies()).find((c) => c.name === 'gotify-client-token')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const clients = await s.api('GET', '/client', { token: cookie.value });
    expect(clients.body.find((c: { token: string }) => c.token === cookie.value)).toMatchObject({ name: 'Flow Web UI' });
    // This browser's session is known to the UI: the reload keeps it, logout ends it.
    await ui.page.reload();
    await waitForHeading(ui.page, 'All Messages');
    await ui.page.locator('#logout').click();
    await waitForHeading(ui.page, 'Login');
    expect((await s.api('GET', '/current/user', { token: cookie.value })).status).toBe(401);
  });

  it('shows a clear error page when the identity cannot sign in, with the way back', async () => {
    idp.loginAs = 'nobody';
    // A new browser context: no session at the provider from the last login.
    const context = await ui.browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(s.url + '/');
      await page.locator('#oidc-login').click();
      await page.locator('h1', { hasText: 'Sign-in failed (403 Forbidden)' }).waitFor();
      expect(await page.locator('#message').textContent()).toContain('the identity has no "preferred_username" claim');
      expect((await context.cookies()).some((c) => c.name === 'gotify-client-token')).toBe(false);
      await screenshot(page, 'login-oidc-error');
      await page.locator('#back-to-login').click();
      await waitForHeading(page, 'Login');
    } finally {
      await context.close();
    }
  });

  it('fits a phone screen (390 px): button and form, no horizontal overflow', async () => {
    const context = await ui.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const page = await context.newPage();
      await page.goto(s.url + '/');
      await page.locator('#oidc-login').waitFor();
      expect(await horizontalOverflow(page)).toEqual([]);
      const button = (await page.locator('#oidc-login').boundingBox())!;
      expect(button.width).toBeGreaterThan(200);
      expect(button.height).toBeGreaterThanOrEqual(36);
      await screenshot(page, 'login-oidc-phone');
      idp.loginAs = 'dave';
      await page.locator('#oidc-login').click();
      await waitForHeading(page, 'All Messages');
      expect(await horizontalOverflow(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('web UI with local login disabled', () => {
  it('offers only the provider, says why, and a Basic login is refused', async () => {
    const s = await server({ 'oidc.locallogin': false });
    const context = await ui.browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      await page.goto(s.url + '/');
      await page.locator('#oidc-login').waitFor();
      expect(await page.locator('input[name="password"]').count()).toBe(0);
      expect(await page.locator('.login-note').textContent()).toBe('Password login is disabled on this server.');
      expect(await horizontalOverflow(page)).toEqual([]);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await screenshot(page, 'login-oidc-only-phone');
    } finally {
      await context.close();
    }
    expect((await s.api('GET', '/current/user', { auth: s.adminAuth })).status).toBe(401);
  });
});
