import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, openBrowser, screenshot, waitForHeading, waitForText, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';

let flow: UiServer;
let ui: UiBrowser;
let windows: { id: number; token: string };
let backup: { id: number; token: string };

beforeAll(async () => {
  flow = await startUiServer();
  windows = await flow.server.createApp({ name: 'Windows', description: 'Office PCs' });
  backup = await flow.server.createApp({ name: 'Backup' });
  ui = await openBrowser(flow.uiUrl);
  await login(ui.page, flow.uiUrl);
});
afterAll(async () => {
  await ui?.close();
  await flow?.close();
});

function post(token: string, body: Record<string, unknown>) {
  return flow.server.api('POST', '/message', { token, json: body });
}

const messages = () => ui.page.locator('#messages .message');

async function titles(): Promise<string[]> {
  return messages().locator('.title').allTextContents();
}

describe('messages page', () => {
  it('lists the applications in the navigation', async () => {
    await ui.page.locator('#message-navigation .item').filter({ hasText: 'Backup' }).waitFor();
    expect(await ui.page.locator('#message-navigation .item').allTextContents()).toEqual(['Windows', 'Backup']);
    expect(await ui.page.locator('#delete-all').isDisabled()).toBe(true);
  });

  it('shows a message posted through the API live, without a reload', async () => {
    const res = await post(windows.token, { title: 'Login', message: 'User jmattheis logged in.' });
    expect(res.status).toBe(200);
    await waitForText(messages().first().locator('.title'), 'Login');
    expect(await messages().first().locator('.content').textContent()).toBe('User jmattheis logged in.');
    await post(backup.token, { title: 'Backup done', message: 'Linux Server Backup finished (1.6GB).', priority: 8 });
    await messages().nth(1).waitFor();
    expect(await titles()).toEqual(['Backup done', 'Login']);
    await screenshot(ui.page, 'messages-all');
  });

  it('filters by application, live too', async () => {
    await ui.page.locator('#message-navigation a', { hasText: 'Windows' }).click();
    await waitForHeading(ui.page, 'Windows');
    expect(ui.page.url()).toContain(`#/messages/${windows.id}`);
    await messages().first().waitFor();
    expect(await titles()).toEqual(['Login']);
    await post(backup.token, { title: 'Elsewhere', message: 'not for this view' });
    await post(windows.token, { title: 'Shutdown', message: 'Windows will be shut down.' });
    await messages().nth(1).waitFor();
    expect(await titles()).toEqual(['Shutdown', 'Login']);
    await screenshot(ui.page, 'messages-application');
  });

  it('renders markdown messages and neutralises scripts, event handlers and javascript: links', async () => {
    await ui.page.locator('#message-navigation a.all').click();
    await waitForHeading(ui.page, 'All Messages');
    await post(windows.token, {
      title: 'Markdown',
      message: [
        '**bold** and `code`',
        '',
        '<script>window.__flowXss = "script"</script>',
        '',
        '<img src="x" onerror="window.__flowXss = \'onerror\'">',
        '',
        '[click me](javascript:window.__flowXss=\'link\') and [safe](https://example.org/)',
      ].join('\n'),
      extras: { 'client::display': { contentType: 'text/markdown' } },
    });
    const content = messages().first().locator('.content');
    await content.locator('strong').filter({ hasText: 'bold' }).waitFor();
    expect(await content.locator('code').textContent()).toBe('code');
    expect(await content.locator('script').count()).toBe(0);
    expect(await content.locator('[onerror]').count()).toBe(0);
    const hrefs = await content.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    expect(hrefs.some((h) => h?.toLowerCase().startsWith('javascript:'))).toBe(false);
    expect(hrefs).toContain('https://example.org/');
    // Clicking what is left of the javascript: link must not run it either.
    await content.getByText('click me').click();
    expect(await ui.page.evaluate(() => (window as { __flowXss?: string }).__flowXss)).toBeUndefined();
    await screenshot(ui.page, 'messages-markdown');
  });

  it('shows plain-text messages as text, HTML included', async () => {
    await post(windows.token, { title: 'Plain', message: '<b>not bold</b> **not bold**' });
    const content = messages().first().locator('.content');
    await waitForText(content, '<b>not bold</b> **not bold**');
    expect(await content.locator('b').count()).toBe(0);
  });

  it('deletes one message', async () => {
    const before = await messages().count();
    await messages().first().locator('.delete').click();
    await ui.page.waitForFunction((n) => document.querySelectorAll('#messages .message').length === n, before - 1);
    expect(await titles()).not.toContain('Plain');
    const res = await flow.server.api('GET', '/message', { auth: flow.server.adminAuth });
    expect(res.body.messages.map((m: { title: string }) => m.title)).not.toContain('Plain');
  });

  it('deletes all messages of one application after confirming', async () => {
    await ui.page.locator('#message-navigation a', { hasText: 'Backup' }).click();
    await waitForHeading(ui.page, 'Backup');
    await messages().first().waitFor();
    await ui.page.locator('#delete-all').click();
    const dialog = ui.page.locator('.confirm-dialog');
    await dialog.waitFor();
    await screenshot(ui.page, 'messages-delete-all-confirm');
    await dialog.locator('button.confirm').click();
    await ui.page.locator('#delete-all:disabled').waitFor();
    const res = await flow.server.api('GET', `/application/${backup.id}/message`, { auth: flow.server.adminAuth });
    expect(res.body.messages).toEqual([]);
    const all = await flow.server.api('GET', '/message', { auth: flow.server.adminAuth });
    expect(all.body.messages.length).toBeGreaterThan(0);
  });

  it('deletes all messages after confirming', async () => {
    await ui.page.locator('#message-navigation a.all').click();
    await waitForHeading(ui.page, 'All Messages');
    await messages().first().waitFor();
    await ui.page.locator('#delete-all').click();
    await ui.page.locator('.confirm-dialog button.confirm').click();
    await ui.page.locator('#delete-all:disabled').waitFor();
    expect(await ui.page.locator('#messages').count()).toBe(0);
    const all = await flow.server.api('GET', '/message', { auth: flow.server.adminAuth });
    expect(all.body.messages).toEqual([]);
    await screenshot(ui.page, 'messages-empty');
  });

  it('reconnects the stream after the server restarts and shows new messages live', async () => {
    // Stop first and start separately, so the "reconnecting" state is there long enough to see.
    await flow.server.flow.close();
    await ui.page.locator('.stream-banner').waitFor();
    await screenshot(ui.page, 'messages-reconnecting');
    // A page opened while the server is down says so, and loads by itself once the server is back.
    await ui.page.locator('#navigate-clients').click();
    await ui.page.locator('.clients-page .error-box').filter({ hasText: 'cannot be reached' }).waitFor();
    await flow.server.restart();
    await ui.page.locator('.stream-banner').waitFor({ state: 'detached', timeout: 15_000 });
    await ui.page.locator('#client-table').waitFor();
    await ui.page.locator('#message-navigation a.all').click();
    await post(windows.token, { title: 'After restart', message: 'the stream is back' });
    await waitForText(messages().first().locator('.title'), 'After restart');
    expect(ui.pageErrors).toEqual([]);
  });

  it('fits a phone screen', async () => {
    await ui.page.setViewportSize({ width: 390, height: 844 });
    const overflow = await ui.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(ui.page, 'messages-phone');
  });
});
