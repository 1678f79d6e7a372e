import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer, type PluginServer } from '../../../test/helpers/plugins.js';

const EXECUTABLE = fileURLToPath(new URL('../dist/flow-notes.mjs', import.meta.url));

describe('notes in a real server', () => {
  let s: PluginServer;
  let pageUrl: string;
  const notes = async () => (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages.filter((m: { title: string }) => m.title !== 'never') as Array<{ title: string; message: string }>;

  async function token(): Promise<string> {
    const html = await (await fetch(pageUrl)).text();
    return /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  }

  /** Posts where a browser sends the page's form: the form's action resolved against `from`. */
  function post(fields: Record<string, string>, headers: Record<string, string> = {}, from = pageUrl): Promise<Response> {
    return fetch(new URL('?', from), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(s.url).origin, ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  beforeAll(async () => {
    const dir = await pluginsDir();
    await symlink(EXECUTABLE, path.join(dir, 'flow-notes.mjs'));
    s = await startPluginServer(dir);
    const plugin = (await s.plugins()).find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/notes');
    expect(plugin).toBeDefined();
    expect((await s.api('POST', `/plugin/${plugin.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    const display: string = (await s.api('GET', `/plugin/${plugin.id}/display`, { auth: s.adminAuth })).body;
    pageUrl = /\[Open the notes page\]\(([^)]+)\)/.exec(display)![1]!;
    expect(pageUrl).toBe(hookUrl(s, plugin));
  });
  afterAll(async () => {
    await s?.close(); // also removes the plugins folder
  });

  it('the display links a page served with a strict CSP', async () => {
    const res = await fetch(pageUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<form method="post" action="?">');
  });

  it('posting the form sends the note and redirects back with a confirmation', async () => {
    const res = await post({ csrf: await token(), title: 'Groceries', note: 'milk <b>and</b> eggs' });
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location')!, pageUrl);
    const [latest] = await notes();
    expect(latest).toMatchObject({ title: 'Groceries', message: 'milk <b>and</b> eggs' });
    expect(back.href).toBe(`${pageUrl}?sent=${(latest as unknown as { id: number }).id}`);
    const page = await (await fetch(back)).text();
    expect(page).toContain('Note sent (message');
    expect(page).toContain('milk &lt;b&gt;and&lt;/b&gt; eggs');
  });

  it('the page opened without its trailing slash posts and redirects within the plugin', async () => {
    const bare = pageUrl.replace(/\/$/, '');
    const html = await (await fetch(bare)).text();
    const action = /<form method="post" action="([^"]*)">/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const res = await fetch(new URL(action, bare), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(s.url).origin },
      body: new URLSearchParams({ csrf, note: 'no slash' }).toString(),
    });
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location')!, new URL(action, bare));
    const [latest] = await notes();
    expect(latest).toMatchObject({ message: 'no slash' });
    expect(back.href).toBe(`${bare}?sent=${(latest as unknown as { id: number }).id}`);
    expect(await (await fetch(back)).text()).toContain('Note sent (message');
  });

  it('refuses a POST without a valid token or from another site: 403, no message', async () => {
    const before = (await notes()).length;
    expect((await post({ note: 'no token' })).status).toBe(403);
    expect((await post({ note: 'forged', csrf: '1.' + 'x'.repeat(43) })).status).toBe(403);
    expect((await post({ note: 'cross-site', csrf: await token() }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await notes()).length).toBe(before);
  });
});
