import { createTestHost, type TestHost, type TestInstance } from '@flow/plugin-kit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { plugin } from './plugin.js';

const HOST = 'flow.example.com';
const FORM = { 'content-type': 'application/x-www-form-urlencoded', host: HOST };

/** The hidden CSRF field of a served page. */
function tokenOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (match === null) throw new Error('no csrf field in the page');
  return match[1]!;
}

describe('notes plugin', () => {
  let host: TestHost;
  let inst: TestInstance;
  beforeEach(async () => {
    host = await createTestHost(plugin);
    inst = await host.createInstance({ webhookBasePath: '/plugin/6/custom/Pnotes/' });
    await inst.enable();
  });
  afterEach(async () => {
    expect(host.violations).toEqual([]);
    await host.close();
  });

  async function page(query = ''): Promise<string> {
    const res = await inst.webhook({ method: 'GET', path: '/', query, headers: { host: HOST } });
    expect(res.status).toBe(200);
    return res.text();
  }

  /** Posts where the page's form does: its own path, "/". */
  function post(fields: Record<string, string>, headers: Record<string, string> = {}, path = '/') {
    return inst.webhook({ method: 'POST', path, headers: { ...FORM, ...headers }, body: new URLSearchParams(fields).toString() });
  }

  it('serves the form with strict security headers', async () => {
    const res = await inst.webhook({ method: 'GET', path: '/' });
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // Not no-referrer: that makes browsers send "Origin: null" on the form's own posts (see page.ts).
    expect(res.headers['referrer-policy']).toBe('same-origin');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'$/);
    const html = res.text();
    expect(html).toContain('<form method="post" action="?">');
    expect(html).not.toMatch(/<script|https?:\/\//);
    // The CSP hash is the hash of the one inline style.
    const style = /<style>([^<]*)<\/style>/.exec(html)![1]!;
    const { createHash } = await import('node:crypto');
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
  });

  it('posts a note: message sent, 303 back to the page, confirmation shown', async () => {
    const token = tokenOf(await page());
    const res = await post({ csrf: token, title: 'Groceries', note: 'milk\r\neggs' }, { origin: `https://${HOST}`, 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
    expect(inst.messages).toHaveLength(1);
    expect(inst.messages[0]).toMatchObject({ title: 'Groceries', message: 'milk\neggs', priority: 5 });
    const location = String(res.headers.location);
    expect(location).toBe(`?sent=${inst.messages[0]!.id}`);
    const back = await page(location.slice(1));
    expect(back).toContain(`Note sent (message ${inst.messages[0]!.id}).`);
    expect(back).toContain('<strong>Groceries</strong>');
  });

  it('uses the configured title and priority', async () => {
    await inst.setConfig('title: Memo\npriority: 8\n');
    await post({ csrf: tokenOf(await page()), note: 'call mum' });
    expect(inst.messages[0]).toMatchObject({ title: 'Memo', message: 'call mum', priority: 8 });
    await expect(inst.setConfig('title: ""')).rejects.toThrow('title must be non-empty text');
    await expect(inst.setConfig('priority: 99')).rejects.toThrow('priority must be a whole number from 0 to 10');
  });

  it.each([
    ['no token', {}],
    ['an empty token', { csrf: '' }],
    ['a forged token', { csrf: `${Math.floor(Date.now() / 1000)}.${'A'.repeat(43)}` }],
  ])('refuses %s with 403, no message', async (_name, extra) => {
    const res = await post({ note: 'hi', ...extra });
    expect(res.status).toBe(403);
    expect(inst.messages).toEqual([]);
  });

  it('refuses a token from another instance', async () => {
    const other = await host.createInstance();
    const foreign = tokenOf((await other.webhook({ path: '/' })).text());
    expect((await post({ csrf: foreign, note: 'hi' })).status).toBe(403);
    expect(inst.messages).toEqual([]);
  });

  it.each([
    [{ origin: 'https://evil.example' }],
    [{ origin: 'null' }],
    [{ origin: `http://${HOST}.evil.example` }],
    [{ 'sec-fetch-site': 'cross-site' }],
    [{ 'sec-fetch-site': 'same-site' }],
  ])('refuses a cross-site POST %j even with a valid token', async (headers) => {
    const res = await post({ csrf: tokenOf(await page()), note: 'hi' }, headers);
    expect(res.status).toBe(403);
    expect(res.text()).not.toContain('evil');
    expect(inst.messages).toEqual([]);
  });

  it('keeps the secret in storage, so tokens survive a restart', async () => {
    const token = tokenOf(await page());
    const secret = inst.kv.get('csrf-secret');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await host.close();
    host = await createTestHost(plugin);
    const again = await host.createInstance({ instanceId: inst.id });
    again.kv.set('csrf-secret', secret!);
    inst = again;
    expect((await post({ csrf: token, note: 'after restart' })).status).toBe(303);
  });

  it('escapes user text in the page', async () => {
    const evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
    await post({ csrf: tokenOf(await page()), title: evil, note: evil });
    expect(inst.messages[0]?.message).toBe(evil); // the message itself is the user's text, unchanged
    const html = await page();
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
  });

  it('an empty or oversized note re-renders the form with the reason and the text kept', async () => {
    const empty = await post({ csrf: tokenOf(await page()), note: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.text()).toContain('Write a note first.');
    const big = await post({ csrf: tokenOf(await page()), title: 'keep <me>', note: 'x'.repeat(4001) });
    expect(big.status).toBe(400);
    expect(big.text()).toContain('at most 4000 characters (this one has 4001)');
    expect(big.text()).toContain('value="keep &lt;me&gt;"');
    expect(inst.messages).toEqual([]);
  });

  it('only form posts, only known paths', async () => {
    const token = tokenOf(await page());
    expect((await inst.webhook({ method: 'POST', path: '/notes', headers: { 'content-type': 'application/json' }, body: { csrf: token, note: 'x' } })).status).toBe(415);
    expect((await inst.webhook({ method: 'GET', path: '/notes' })).status).toBe(405);
    expect((await inst.webhook({ method: 'PUT', path: '/' })).status).toBe(405);
    const missing = await inst.webhook({ path: '/other' });
    expect(missing.status).toBe(404);
    expect(missing.headers['x-content-type-options']).toBe('nosniff');
    expect(inst.messages).toEqual([]);
  });

  it('the form and its redirects resolve to the page whether or not its URL ends in "/"', async () => {
    // The host serves both <base> and <base> without the slash as "/": every URL the page hands
    // the browser must land back in the instance from either.
    const html = await page();
    const action = /<form method="post" action="([^"]*)">/.exec(html)![1]!;
    const token = tokenOf(html);
    for (const pageUrl of ['https://flow.example.com/plugin/6/custom/Pnotes/', 'https://flow.example.com/plugin/6/custom/Pnotes']) {
      const target = new URL(action, pageUrl);
      expect(target.pathname).toBe(new URL(pageUrl).pathname);
      const sent = await post({ csrf: token, note: `from ${pageUrl}` });
      expect(sent.status).toBe(303);
      expect(new URL(String(sent.headers.location), target).pathname).toBe(target.pathname);
      const refused = await post({ note: 'no token' });
      const back = /<a href="([^"]*)">Back to the form<\/a>/.exec(refused.text())![1]!;
      expect(new URL(back, target).pathname).toBe(target.pathname);
    }
    expect(inst.messages.map((m) => m.message)).toEqual(['from https://flow.example.com/plugin/6/custom/Pnotes/', 'from https://flow.example.com/plugin/6/custom/Pnotes']);
  });

  it('still accepts posts to <base>notes from pages served before the form posted to "?"', async () => {
    const token = tokenOf(await page());
    const res = await post({ csrf: token, note: 'old page' }, {}, '/notes');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`./?sent=${inst.messages[0]!.id}`);
    const refused = await post({ note: 'no token' }, {}, '/notes');
    expect(refused.text()).toContain('<a href="./">Back to the form</a>');
  });

  it('display links the page by its absolute URL', async () => {
    const display = await inst.display({ scheme: 'https', host: HOST, webhookBasePath: '/flow/plugin/6/custom/Pnotes/' });
    expect(display).toContain('[Open the notes page](https://flow.example.com/flow/plugin/6/custom/Pnotes/)');
  });
});
