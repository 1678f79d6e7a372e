import { afterAll, beforeAll, it } from 'vitest';
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

it('walks3', { timeout: 120_000 }, async () => {
  const p = ui.page;
  await p.goto(flow.uiUrl);
  await p.evaluate(() => localStorage.setItem('gotify-login-key', 'bogus'));
  await p.reload();
  await waitForHeading(p, 'Login');
  await p.waitForTimeout(300);
  await screenshot(p, 'w3-bogus-token');
  await login(p, flow.uiUrl);
  // stop API only for /current/user by routing
  await p.route('**/current/user', (r) => r.abort());
  await p.reload();
  await p.waitForTimeout(800);
  await screenshot(p, 'w3-unreachable');
  await p.unroute('**/current/user');
  await p.route('**/application', (r) => r.fulfill({ status: 502, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }));
  await p.getByRole('button', { name: 'Retry' }).click();
  await waitForHeading(p, 'All Messages');
  await p.locator('#navigate-apps').click();
  await p.waitForTimeout(500);
  await screenshot(p, 'w3-502');
  await p.route('**/message?limit=100', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: '{"oops":1}' }));
  await p.locator('#message-navigation a.all').click();
  await p.waitForTimeout(500);
  await screenshot(p, 'w3-badjson');
  console.log('errors', ui.pageErrors);
});
