import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, openBrowser, screenshot, waitForHeading, waitForText, type UiBrowser } from './support/browser.js';
import { startUiServer, type UiServer } from './support/flow.js';
import { startSubPathProxy, type SubPathProxy } from './support/proxy.js';

let flow: UiServer;
let proxy: SubPathProxy;
let ui: UiBrowser;

beforeAll(async () => {
  flow = await startUiServer(['echo']);
  proxy = await startSubPathProxy(flow.server.url, '/flow/');
  ui = await openBrowser(proxy.url);
});
afterAll(async () => {
  await ui?.close();
  await proxy?.close();
  await flow?.close();
});

describe('web UI behind a reverse proxy sub-path', () => {
  it('loads, logs in and receives live messages with every URL under the prefix', async () => {
    const requested: string[] = [];
    const sockets: string[] = [];
    ui.page.on('request', (req) => requested.push(req.url()));
    ui.page.on('websocket', (ws) => sockets.push(ws.url()));
    await login(ui.page, proxy.url);
    const app = await flow.server.createApp({ name: 'Proxied' });
    await flow.server.api('POST', '/message', { token: app.token, json: { title: 'Through the proxy', message: 'hi' } });
    await waitForText(ui.page.locator('#messages .message .title').first(), 'Through the proxy');
    await ui.page.locator('#navigate-apps').click();
    await waitForHeading(ui.page, 'Applications');
    await screenshot(ui.page, 'subpath-applications');
    const origin = new URL(proxy.url).origin;
    const outside = requested.filter((u) => u.startsWith(origin) && !u.startsWith(proxy.url));
    expect(outside).toEqual([]);
    expect(requested.some((u) => u.startsWith(`${proxy.url}assets/`))).toBe(true);
    expect(sockets.length).toBeGreaterThan(0);
    // The stream authenticates with the session cookie: no token in its URL.
    expect(sockets.every((u) => u === `${proxy.url.replace(/^http/, 'ws')}stream`)).toBe(true);
    expect(ui.pageErrors).toEqual([]);
  });

  it("shows the plugin's webhook URLs under the prefix", async () => {
    await ui.page.locator('#navigate-plugins').click();
    await waitForHeading(ui.page, 'Plugins');
    await ui.page.locator('#plugin-table tbody tr td:nth-child(5) button').first().click();
    const base = await ui.page.locator('.plugin-info .webhook a').getAttribute('href');
    expect(base).toMatch(new RegExp(`^${proxy.url}plugin/\\d+/custom/[^/]+/$`));
    // The plugin builds its display link from X-Forwarded-Prefix, which the proxy sends.
    await ui.page.locator('.displayer a').first().waitFor();
    expect(await ui.page.locator('.displayer a').first().getAttribute('href')).toBe(`${base}echo`);
    await screenshot(ui.page, 'subpath-plugin-detail');
  });
});

describe('web UI behind a proxy that rewrites Host (CORS same-host check via X-Forwarded-Host)', () => {
  let hostProxy: SubPathProxy;
  let page: UiBrowser;
  beforeAll(async () => {
    hostProxy = await startSubPathProxy(flow.server.url, '/flow/', { rewriteHost: true });
    page = await openBrowser(hostProxy.url);
  });
  afterAll(async () => {
    await page?.close();
    await hostProxy?.close();
  });

  it('logs in and loads applications: the browser’s Origin matches X-Forwarded-Host, not Host', async () => {
    const calls: { url: string; method: string; status: number }[] = [];
    page.page.on('response', (res) => {
      if (!res.url().includes('/stream')) calls.push({ url: res.url(), method: res.request().method(), status: res.status() });
    });
    await login(page.page, hostProxy.url);
    await page.page.locator('#navigate-apps').click();
    await waitForHeading(page.page, 'Applications');
    await page.page.locator('#app-table td.name', { hasText: 'Proxied' }).waitFor();
    expect(calls.some((c) => c.method === 'POST' && c.url.endsWith('/auth/local/login') && c.status === 200)).toBe(true);
    expect(calls.filter((c) => c.status === 403)).toEqual([]);
  });
});
