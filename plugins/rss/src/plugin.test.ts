import { fileURLToPath } from 'node:url';
import { createTestHost, RpcError, type TestHost } from '@flow/plugin-kit/testing';
import { ErrorCodes } from '@flow/plugin-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/wait.js';
import { FeedServer, type TestItem } from '../test/feed-server.js';
import { plugin } from './plugin.js';

const BUNDLE = fileURLToPath(new URL('../dist/flow-rss.mjs', import.meta.url));
const FAST = { FLOW_RSS_MIN_INTERVAL: '10ms' };

let server: FeedServer;
const hosts: TestHost[] = [];
beforeAll(async () => {
  server = await FeedServer.start();
  process.env.FLOW_RSS_MIN_INTERVAL = FAST.FLOW_RSS_MIN_INTERVAL;
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
  server.routes.clear();
  server.hits.clear();
});
afterAll(async () => {
  await server.close();
});

function item(n: number): TestItem {
  return { guid: `g${n}`, title: `Post ${n}`, link: `https://blog.example/${n}`, description: `<p>About <em>${n}</em> &amp; more</p>`, date: new Date(Date.UTC(2026, 10, n)) };
}

async function inProcess(): Promise<TestHost> {
  const host = await createTestHost(plugin);
  hosts.push(host);
  return host;
}

/**
 * Another instance on `host` polling its own feed every 50 ms: two more of its polls prove
 * that an instance with the same interval would have polled meanwhile, without a fixed sleep
 * (however busy the machine).
 */
async function witness(host: TestHost): Promise<() => Promise<void>> {
  server.rss('/witness.xml', () => [item(1)]);
  const inst = await host.createInstance();
  await inst.setConfig(`interval: 50ms\nfeeds: ['${server.url('/witness.xml')}']\n`);
  await inst.enable();
  const polls = () => server.hits.get('/witness.xml') ?? 0;
  return async () => {
    const seen = polls();
    await waitFor(() => polls() >= seen + 2, 'two polls of the witness instance');
  };
}

async function child(): Promise<TestHost> {
  const host = await createTestHost({ command: [process.execPath, BUNDLE], env: FAST });
  hosts.push(host);
  return host;
}

describe('rss plugin through the kit test host', () => {
  it('accepts its default config and rejects bad values with a short reason', async () => {
    const host = await inProcess();
    const inst = await host.createInstance();
    await inst.setConfig(await inst.defaultConfig());
    const reject = async (yaml: string): Promise<unknown> => inst.setConfig(yaml).then(() => 'accepted', (err: unknown) => err);
    for (const [yaml, reason] of [
      ['feeds:\n  - url: gopher://old.example/\n', 'feeds[0].url: only http and https URLs are allowed'],
      ['feeds:\n  - not a url\n', 'feeds[0].url: not a valid URL'],
      ['feeds:\n  - url: https://a.example/\n    interval: 1ms\n', 'feeds[0].interval: must be at least 10ms'],
      ['concurrency: 1000\n', 'concurrency: must be between 1 and 64'],
    ] as const) {
      const err = await reject(yaml);
      expect(err).toBeInstanceOf(RpcError);
      expect(err).toMatchObject({ code: ErrorCodes.InvalidConfig, message: reason });
    }
    expect(host.violations).toEqual([]);
  });

  it('polls while enabled, sends new items, shows status in the display and stops on disable', async () => {
    const items = [item(1)];
    server.rss('/feed.xml', () => items, 'The Blog');
    server.text('/broken.xml', '<rss><channel><item><title>cut');
    const host = await inProcess();
    const inst = await host.createInstance();
    await inst.setConfig(`interval: 50ms\nfeeds:\n  - url: ${server.url('/feed.xml')}\n    priority: 7\n  - url: ${server.url('/broken.xml')}\n    title: Broken\n`);
    expect(await inst.display()).toContain('Not polling: the plugin is disabled.');
    await inst.enable();
    await waitFor(async () => (await inst.display()).includes('| ok | 1 | 0 |'), 'first poll shown');
    items.unshift(item(2));
    await host.waitFor(() => host.messages.length === 1);
    expect(host.messages[0]).toMatchObject({
      title: 'Post 2',
      priority: 7,
      message: 'About 2 & more\n\n*The Blog* · [open](<https://blog.example/2>)'.replace('&', '\\&'),
      extras: { 'client::notification': { click: { url: 'https://blog.example/2' } }, 'client::display': { contentType: 'text/markdown' } },
    });
    await waitFor(async () => (await inst.display()).includes('| ok | 2 | 1 |'), 'sent count shown');
    const display = await inst.display();
    expect(display).toContain('Polling 2 feeds, up to 8 at a time.');
    expect(display).toMatch(/\| \[The Blog\]\(<http:\/\/127\.0\.0\.1:\d+\/feed\.xml>\) \| 50ms \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \([^)]*\) \| ok \| 2 \| 1 \|/);
    expect(display).toContain('error: malformed XML\\: the document ends inside \\<title\\> \\(cut short\\?\\)');
    expect(display).toMatch(/\| \[Broken\]\([^)]*\) \| 50ms \| [^|]+ \| error: [^|]+ — backing off until \d{4}-[^|]+ UTC \| — \| 0 \|/);

    const pollsPassed = await witness(host);
    await inst.disable();
    const stopped = server.hits.get('/feed.xml');
    items.unshift(item(3));
    await pollsPassed();
    expect(server.hits.get('/feed.xml')).toBe(stopped);
    expect(host.messages).toHaveLength(1);
    expect(host.violations).toEqual([]);
  });

  it('never polls for a destroyed instance', async () => {
    server.rss('/d.xml', () => [item(1)]);
    const host = await inProcess();
    const inst = await host.createInstance();
    await inst.setConfig(`interval: 50ms\nfeeds: ['${server.url('/d.xml')}']\n`);
    await inst.enable();
    await waitFor(() => (server.hits.get('/d.xml') ?? 0) >= 2, 'two polls');
    const pollsPassed = await witness(host);
    await inst.destroy();
    const after = server.hits.get('/d.xml');
    await pollsPassed();
    expect(server.hits.get('/d.xml')).toBe(after);
  });

  it('as a child process, survives a restart with storage kept: no repeats, no losses', async () => {
    const items = [item(2), item(1)];
    server.rss('/r.xml', () => items);
    const config = `interval: 50ms\nfeeds:\n  - ${server.url('/r.xml')}\n`;

    const first = await child();
    const a = await first.createInstance({ instanceId: '7' });
    await a.setConfig(config);
    await a.enable();
    await waitFor(() => a.kv.size === 1, 'feed record stored');
    items.unshift(item(3));
    await first.waitFor(() => first.messages.length === 1);
    // Straight to shutdown: the kit disables the instance first, so the last write lands.
    expect(await first.close()).toBe(0);
    expect(first.violations).toEqual([]);

    // Published while the plugin was not running.
    items.unshift(item(5), item(4));
    const second = await child();
    const b = await second.createInstance({ instanceId: '7' });
    for (const [key, value] of a.kv) b.kv.set(key, value);
    await b.setConfig(config);
    await b.enable();
    await second.waitFor(() => second.messages.length === 2);
    const polled = server.hits.get('/r.xml') ?? 0;
    await waitFor(() => (server.hits.get('/r.xml') ?? 0) >= polled + 3, 'more polls');
    expect(first.messages.map((m) => m.title)).toEqual(['Post 3']);
    expect(second.messages.map((m) => m.title)).toEqual(['Post 4', 'Post 5']);
    expect(second.violations).toEqual([]);
  });
});
