import { afterAll, beforeAll, it } from 'vitest';
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

it('walks', { timeout: 120_000 }, async () => {
  const p = ui.page;
  const shot = (n: string) => screenshot(p, `walk-${n}`);
  await p.goto(flow.uiUrl);
  await waitForHeading(p, 'Login');
  await p.keyboard.type('admin');
  await p.keyboard.press('Tab');
  await p.keyboard.type('nope');
  await p.keyboard.press('Enter');
  await p.locator('#login-form [role="alert"]').waitFor();
  await shot('01-login-wrong');
  await login(p, flow.uiUrl);
  await shot('02-admin-home');
  await p.locator('#navigate-users').click();
  await waitForHeading(p, 'Users');
  await shot('03-users');
  await p.locator('#create-user').click();
  await shot('04-user-dialog');
  await p.keyboard.type('carol');
  await p.keyboard.press('Tab');
  await p.keyboard.type('carol-pass');
  await p.keyboard.press('Enter');
  await p.locator('#user-table td.name', { hasText: 'carol' }).waitFor();
  await shot('05-user-created');
  await p.locator('#changepw').click();
  await shot('05b-changepw');
  await p.keyboard.press('Enter');
  await p.locator('#changepw-dialog [role=alert]').waitFor();
  await shot('05c-changepw-empty');
  await p.keyboard.press('Escape');
  await p.locator('#logout').click();
  await login(p, flow.uiUrl, 'carol', 'carol-pass');
  await shot('06-carol-home');
  await p.locator('#navigate-apps').click();
  await waitForHeading(p, 'Applications');
  await shot('07-apps-empty');
  await p.locator('#create-app').click();
  await p.keyboard.type('backup');
  await p.keyboard.press('Enter');
  await p.locator('#app-table td.name', { hasText: 'backup' }).waitFor();
  await shot('08-app-created');
  await p.locator('#app-table .copy-secret').first().click();
  const token = await p.evaluate(() => navigator.clipboard.readText());
  await p.locator('#message-navigation a.all').click();
  await waitForHeading(p, 'All Messages');
  await fetch(`${flow.uiUrl}message`, {
    method: 'POST',
    headers: { 'X-Gotify-Key': token, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Backup done', message: '**bold** and a [link](https://example.org)\n\n- one\n- two', priority: 8, extras: { 'client::display': { contentType: 'text/markdown' } } }),
  });
  await fetch(`${flow.uiUrl}message`, {
    method: 'POST',
    headers: { 'X-Gotify-Key': token, 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'plain one' }),
  });
  await p.locator('#messages .message').nth(1).waitFor();
  await shot('09-messages');
  await p.locator('#message-navigation .item').first().click();
  await shot('10-app-messages');
  await p.locator('#messages .message .delete').first().click();
  await p.waitForTimeout(300);
  await shot('11-after-delete');
  await p.locator('#navigate-clients').click();
  await waitForHeading(p, 'Clients');
  await p.locator('#create-client').click();
  await p.keyboard.type('phone');
  await p.keyboard.press('Enter');
  await p.locator('#client-table td.name', { hasText: 'phone' }).waitFor();
  await shot('12-clients');
  await p.locator('#navigate-plugins').click();
  await waitForHeading(p, 'Plugins');
  await shot('13-plugins');
  await p.locator('#plugin-table [data-enabled]').first().click();
  await p.locator('#plugin-table [data-enabled="true"]').waitFor();
  await shot('14-plugins-enabled');
  await p.locator('#plugin-table .details-button').first().click();
  await p.locator('.displayer').waitFor();
  await p.waitForTimeout(500);
  await shot('15-plugin-detail');
  const href = await p.locator('.displayer a').first().getAttribute('href');
  console.log('display link', href);
  const page2 = await ui.context.newPage();
  await page2.goto(href!);
  console.log('webhook body', await page2.content());
  await page2.close();
  await p.locator('#message-navigation a.all').click();
  await p.locator('#messages .message .title', { hasText: 'Hello received' }).waitFor();
  await shot('16-hello');
  await p.goBack();
  await p.locator('.configurer .CodeMirror-code').waitFor();
  await p.locator('.configurer .CodeMirror-code').click();
  await p.keyboard.press('Control+a');
  await p.keyboard.type('magic_string: ""\n');
  await p.locator('.config-save').click();
  await p.locator('.config-error').waitFor();
  await shot('17-bad-config');
  await p.locator('.configurer .CodeMirror-code').click();
  await p.keyboard.press('Control+a');
  await p.keyboard.type('magic_string: open sesame\n');
  await p.locator('.config-save').click();
  await p.waitForTimeout(500);
  await shot('18-fixed-config');
  await p.locator('.configurer .CodeMirror-code').click();
  await p.keyboard.press('Control+a');
  await p.keyboard.type('magic_string: [unclosed\n');
  await p.locator('.config-save').click();
  await p.locator('.config-error').waitFor();
  await shot('18b-yaml-error');
  // narrow
  await p.setViewportSize({ width: 375, height: 740 });
  await shot('19-narrow-plugin');
  await p.locator('#message-navigation a.all').click();
  await shot('20-narrow-messages');
  await p.locator('#navigate-apps').click();
  await waitForHeading(p, 'Applications');
  await shot('21-narrow-apps');
  await p.locator('#create-app').click();
  await shot('22-narrow-dialog');
  await p.keyboard.press('Escape');
  await p.locator('#navigate-clients').click();
  await shot('22b-narrow-clients');
  await p.locator('#changepw').click();
  await shot('22c-narrow-changepw');
  await p.keyboard.press('Escape');
  await p.setViewportSize({ width: 1280, height: 800 });
  // server stop
  await p.locator('#message-navigation a.all').click();
  await flow.server.flow.close();
  await p.locator('.stream-banner').waitFor();
  await shot('23-server-down');
  await p.locator('#navigate-apps').click();
  await p.waitForTimeout(500);
  await shot('24-server-down-apps');
  await p.locator('#create-app').click();
  await p.keyboard.type('x');
  await p.keyboard.press('Enter');
  await p.waitForTimeout(500);
  await shot('25-server-down-create');
  await p.keyboard.press('Escape');
  await p.reload();
  await p.waitForTimeout(1000);
  await shot('26-server-down-reload');
  await flow.server.restart();
  await p.waitForTimeout(1500);
  await shot('27-server-back');
  // deleted token
  const clients = await flow.server.api('GET', '/client', { auth: 'Basic ' + Buffer.from('carol:carol-pass').toString('base64') });
  for (const c of clients.body) if (c.name === 'Flow Web UI') await flow.server.api('DELETE', `/client/${c.id}`, { auth: 'Basic ' + Buffer.from('carol:carol-pass').toString('base64') });
  await p.locator('#navigate-clients').click();
  await waitForHeading(p, 'Login');
  await shot('28-after-token-deleted');
  console.log('errors', ui.pageErrors);
});
