import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginsDir, startPluginServer, waitFor, type PluginServer } from '../../../test/helpers/plugins.js';
import { FeedServer, type TestItem } from './feed-server.js';

// The built single-file plugin in a real server: installed as a folder entry whose plugin.yaml
// points at the bundle and lowers the minimum interval (the administrator's knob), so polls
// come every 100 ms.
const BUNDLE = fileURLToPath(new URL('../dist/flow-rss.mjs', import.meta.url));

function item(n: number): TestItem {
  return { guid: `s${n}`, title: `Story ${n}`, link: `https://news.example/${n}`, description: `Story <b>${n}</b> text`, date: new Date(Date.UTC(2026, 10, 1, n)) };
}

describe('rss plugin in the real server', () => {
  let s: PluginServer;
  let feeds: FeedServer;
  let rss: any;
  const items = [item(2), item(1)];

  const yamlPost = (body: string) => s.api('POST', `/plugin/${rss.id}/config`, { auth: s.adminAuth, body, headers: { 'Content-Type': 'application/x-yaml' } });
  const display = async () => (await s.api('GET', `/plugin/${rss.id}/display`, { auth: s.adminAuth })).body as string;
  const messages = async () => ((await s.api('GET', '/message', { auth: s.adminAuth })).body.messages as any[]).slice().reverse();

  beforeAll(async () => {
    feeds = await FeedServer.start();
    feeds.rss('/news.xml', () => items, 'News');
    const dir = await pluginsDir([]);
    await mkdir(path.join(dir, 'rss'));
    await writeFile(path.join(dir, 'rss', 'plugin.yaml'), `command: ${BUNDLE}\nenv:\n  FLOW_RSS_MIN_INTERVAL: 10ms\n`);
    s = await startPluginServer(dir);
    rss = (await s.plugins()).find((p) => p.modulePath === 'github.com/flow/plugins/rss');
  });
  afterAll(async () => {
    await s?.close();
    await feeds?.close();
  });

  it('is listed with its capabilities and serves its default config', async () => {
    expect(rss).toMatchObject({ name: 'rss', enabled: false, status: 'running', capabilities: ['configurer', 'displayer', 'messenger', 'storager'] });
    const config = await s.api('GET', `/plugin/${rss.id}/config`, { auth: s.adminAuth });
    expect(config.text).toContain('feeds: []');
    expect(await display()).toContain('No feeds configured yet.');
  });

  it('refuses invalid config with the reason and keeps the old one', async () => {
    const bad = await yamlPost('feeds:\n  - url: ftp://files.example/feed\n');
    expect(bad.status).toBe(400);
    expect(bad.body.errorDescription).toBe('feeds[0].url: only http and https URLs are allowed');
    const tooOften = await yamlPost(`feeds:\n  - url: ${feeds.url('/news.xml')}\n    interval: 1ms\n`);
    expect(tooOften.body.errorDescription).toBe('feeds[0].interval: must be at least 10ms');
    expect(await display()).toContain('No feeds configured yet.');
  });

  it('sends one message per new item, and no repeat or loss across a server restart', async () => {
    expect((await yamlPost(`interval: 100ms\nfeeds:\n  - url: ${feeds.url('/news.xml')}\n    priority: 6\n`)).status).toBe(200);
    expect((await s.api('POST', `/plugin/${rss.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    await waitFor(async () => (await display()).includes('| ok | 2 | 0 |'), 'first poll in the display');

    const client = await s.createClient('phone');
    const stream = await s.openStream(client.token);
    items.unshift(item(3));
    expect(await stream.next()).toMatchObject({
      title: 'Story 3',
      priority: 6,
      message: 'Story 3 text\n\n*News* · [open](<https://news.example/3>)',
      extras: { 'client::display': { contentType: 'text/markdown' }, 'client::notification': { click: { url: 'https://news.example/3' } } },
    });
    stream.close();

    // Published while the server (and so the plugin) is down.
    await s.restart();
    items.unshift(item(5), item(4));
    await waitFor(async () => (await messages()).length >= 3, 'items 4 and 5 after the restart');
    const polled = feeds.hits.get('/news.xml') ?? 0;
    await waitFor(() => (feeds.hits.get('/news.xml') ?? 0) >= polled + 5, 'more polls');
    expect((await messages()).map((m) => m.title)).toEqual(['Story 3', 'Story 4', 'Story 5']);
    expect(await display()).toMatch(/\| \[News\]\([^)]*\) \| 100ms \| [^|]+ \| ok \| 5 \| 2 \|/);
  });

  it('stops polling when disabled', async () => {
    // A second user's rss instance polling its own feed every 100 ms witnesses that time
    // passes: two more of its polls mean the disabled one would have polled (no fixed sleep).
    feeds.rss('/witness.xml', () => [item(1)], 'Witness');
    const witness = await s.createUser('witness', 'witness-pass');
    const conf = (await s.api('GET', '/plugin', { auth: witness.auth })).body.find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/rss');
    const yaml = { 'Content-Type': 'application/x-yaml' };
    expect((await s.api('POST', `/plugin/${conf.id}/config`, { auth: witness.auth, body: `interval: 100ms\nfeeds: ['${feeds.url('/witness.xml')}']\n`, headers: yaml })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: witness.auth })).status).toBe(200);
    const witnessPolls = () => feeds.hits.get('/witness.xml') ?? 0;

    expect((await s.api('POST', `/plugin/${rss.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
    const stopped = feeds.hits.get('/news.xml');
    items.unshift(item(6));
    const seen = witnessPolls();
    await waitFor(() => witnessPolls() >= seen + 2, 'two polls of the witness instance');
    expect(feeds.hits.get('/news.xml')).toBe(stopped);
    expect((await messages()).length).toBe(3);
    expect(await display()).toContain('Not polling: the plugin is disabled.');
  });
});
