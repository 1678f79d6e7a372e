import { symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer, type PluginServer } from '../../../test/helpers/plugins.js';
import { openBrowser, screenshot, type UiBrowser } from '../../../test/e2e-ui/support/browser.js';

const EXECUTABLE = fileURLToPath(new URL('../dist/flow-notes.mjs', import.meta.url));

// A real browser is what CSP, Origin and Sec-Fetch-Site are about: these tests check that the
// page's policy lets its own style through, that a genuine form post passes the checks, and that
// a post from another site's page is refused even when it carries a valid token.
describe('notes page in a browser', () => {
  let s: PluginServer;
  let ui: UiBrowser;
  let pageUrl: string;
  const consoleErrors: string[] = [];
  const notes = async () => (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages as Array<{ title: string; message: string }>;

  beforeAll(async () => {
    const dir = await pluginsDir();
    await symlink(EXECUTABLE, path.join(dir, 'flow-notes.mjs'));
    s = await startPluginServer(dir);
    const plugin = (await s.plugins()).find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/notes');
    expect((await s.api('POST', `/plugin/${plugin.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    pageUrl = hookUrl(s, plugin);
    ui = await openBrowser(s.url);
    ui.page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  });
  afterAll(async () => {
    await ui?.close();
    await s?.close();
  });

  it('renders with its own stylesheet allowed by the CSP', async () => {
    await ui.page.goto(pageUrl);
    await ui.page.getByRole('heading', { name: 'Post a note to yourself' }).waitFor();
    // The button's colour comes from the inline stylesheet: blocked by the CSP, it would be the default grey.
    expect(await ui.page.locator('button[type=submit]').evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(31, 111, 235)');
    expect(consoleErrors.filter((e) => e.includes('Content Security Policy'))).toEqual([]);
  });

  it('a note typed into the form arrives as a message, and the page confirms it', async () => {
    await ui.page.goto(pageUrl);
    await ui.page.getByLabel('Title').fill('From the browser');
    await ui.page.getByLabel('Note').fill('<i>not markup</i>');
    await ui.page.getByRole('button', { name: 'Send' }).click();
    await ui.page.getByRole('status').filter({ hasText: /Note sent \(message \d+\)/ }).waitFor();
    expect(ui.page.url()).toMatch(new RegExp(`^${pageUrl.replace(/[.?]/g, '\\$&')}\\?sent=\\d+$`));
    expect(await ui.page.locator('li').first().textContent()).toContain('<i>not markup</i>');
    await screenshot(ui.page, 'notes-plugin-sent');
    expect((await notes())[0]).toMatchObject({ title: 'From the browser', message: '<i>not markup</i>' });
    expect(consoleErrors).toEqual([]);
  });

  it('a form on another site posting here is refused, even with a valid token', async () => {
    await ui.page.goto(pageUrl);
    const token = await ui.page.locator('input[name=csrf]').inputValue();
    const target = pageUrl;
    // "localhost" is another site than "127.0.0.1" for the browser.
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form method="post" action="${target}"><input name="csrf" value="${token}"><input name="note" value="forged"></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const before = (await notes()).length;
      const response = ui.page.waitForResponse((r) => r.url() === target);
      await ui.page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      expect((await response).status()).toBe(403);
      await ui.page.getByText('This form was sent from another site.').waitFor();
      expect((await notes()).length).toBe(before);
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }
  });
});
