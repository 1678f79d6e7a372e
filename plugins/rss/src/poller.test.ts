import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/wait.js';
import { FeedServer, type TestItem } from '../test/feed-server.js';
import { MemoryHost } from '../test/memory-host.js';
import { parseRssConfig, type RssConfig } from './config.js';
import { FeedRecord } from './feed-record.js';
import { itemKey } from './parse.js';
import { FeedPoller, storageKeyFor } from './poller.js';

const FAST = { FLOW_RSS_MIN_INTERVAL: '10ms' };

let server: FeedServer;
const pollers: FeedPoller[] = [];
beforeAll(async () => {
  server = await FeedServer.start();
});
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  server.routes.clear();
  server.hits.clear();
  server.maxInFlight = 0;
});
afterAll(async () => {
  await server.close();
});

function config(raw: Record<string, unknown>): RssConfig {
  return parseRssConfig({ interval: '100ms', timeout: '1s', ...raw }, FAST);
}

function start(host: MemoryHost, cfg: RssConfig): FeedPoller {
  const poller = new FeedPoller(host, cfg);
  pollers.push(poller);
  poller.start();
  return poller;
}

function item(n: number, extra: Partial<TestItem> = {}): TestItem {
  return { guid: `item-${n}`, title: `Item ${n}`, link: `https://example.com/${n}`, description: `<p>Body ${n}</p>`, date: new Date(Date.UTC(2026, 0, 1, 0, n)), ...extra };
}

const hits = (path: string): number => server.hits.get(path) ?? 0;

describe('FeedPoller', () => {
  it('marks existing items seen on the first poll, then sends new ones oldest first', async () => {
    const items = [item(2), item(1)];
    server.rss('/a.xml', () => items, 'Feed A');
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/a.xml')] }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'first poll');
    expect(host.messages).toEqual([]);

    items.unshift(item(4), item(3));
    await waitFor(() => host.messages.length === 2, 'two messages');
    expect(host.titles()).toEqual(['Item 3', 'Item 4']);
    expect(host.messages[0]).toMatchObject({
      priority: 5,
      message: 'Body 3\n\n*Feed A* · [open](<https://example.com/3>)',
      extras: { 'client::notification': { click: { url: 'https://example.com/3' } }, 'client::display': { contentType: 'text/markdown' } },
    });
    const before = hits('/a.xml');
    await waitFor(() => hits('/a.xml') >= before + 3, 'more polls');
    expect(host.messages).toHaveLength(2);
    expect(poller.snapshot()[0]).toMatchObject({ name: 'Feed A', state: 'ok', itemCount: 4, sentCount: 2, failures: 0 });
  });

  it('neither repeats nor loses items across a restart', async () => {
    const items = [item(1)];
    server.rss('/r.xml', () => items);
    const store = new Map<string, string>();
    const first = new MemoryHost(store);
    const a = start(first, config({ feeds: [server.url('/r.xml')] }));
    await waitFor(() => a.snapshot()[0]!.state === 'ok', 'baseline');
    items.unshift(item(2));
    await waitFor(() => first.messages.length === 1, 'item 2');
    await a.stop();

    // Published while the plugin was down.
    items.unshift(item(4), item(3));
    const second = new MemoryHost(store);
    const b = start(second, config({ feeds: [server.url('/r.xml')] }));
    await waitFor(() => second.messages.length === 2, 'items 3 and 4');
    const polled = hits('/r.xml');
    await waitFor(() => hits('/r.xml') >= polled + 2, 'more polls');
    expect(second.titles()).toEqual(['Item 3', 'Item 4']);
    expect(b.snapshot()[0]!.sentCount).toBe(2);
  });

  it('sends the newest first_poll_items of a new feed', async () => {
    server.rss('/n.xml', () => [item(5), item(4), item(3), item(2), item(1)]);
    const host = new MemoryHost();
    start(host, config({ feeds: [server.url('/n.xml')], first_poll_items: 2 }));
    await waitFor(() => host.messages.length === 2, 'two messages');
    const polled = hits('/n.xml');
    await waitFor(() => hits('/n.xml') >= polled + 2, 'more polls');
    expect(host.titles()).toEqual(['Item 4', 'Item 5']);
  });

  it('backs off on HTTP errors, shows the error, and catches up after recovery', async () => {
    let status = 200;
    const items = [item(1)];
    server.rss('/ok.xml', () => items);
    const inner = server.routes.get('/ok.xml')!;
    server.routes.set('/e.xml', (req, res) => (status === 200 ? inner(req, res) : void res.writeHead(status).end()));
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/e.xml')] }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'baseline');

    status = 500;
    items.unshift(item(2));
    await waitFor(() => poller.snapshot()[0]!.failures >= 2, 'two failures');
    const row = poller.snapshot()[0]!;
    expect(row).toMatchObject({ state: 'error', error: 'HTTP 500 Internal Server Error' });
    // Second failure in a row: the next poll waits 4 intervals, not 1.
    expect(row.nextPollAt! - row.lastPollAt!).toBeGreaterThanOrEqual(400 - 5);
    expect(host.logs.some((l) => l.level === 'warn' && l.fields?.error === 'HTTP 500 Internal Server Error')).toBe(true);

    status = 200;
    await waitFor(() => host.messages.length === 1, 'item 2 after recovery');
    expect(host.titles()).toEqual(['Item 2']);
    expect(poller.snapshot()[0]).toMatchObject({ state: 'ok', failures: 0 });
  });

  it('treats a malformed feed as an error and sends nothing twice once it is fixed', async () => {
    const items = [item(1)];
    let broken = false;
    server.rss('/good.xml', () => items);
    const good = server.routes.get('/good.xml')!;
    server.routes.set('/m.xml', (req, res) =>
      broken ? void res.writeHead(200, { 'content-type': 'application/xml' }).end('<rss><channel><item><title>half') : good(req, res),
    );
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/m.xml')] }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'baseline');
    broken = true;
    await waitFor(() => poller.snapshot()[0]!.state === 'error', 'parse error');
    expect(poller.snapshot()[0]!.error).toMatch(/^malformed XML: /);
    items.unshift(item(2));
    broken = false;
    await waitFor(() => host.messages.length === 1, 'item 2');
    const polled = hits('/m.xml');
    await waitFor(() => hits('/m.xml') >= polled + 2, 'more polls');
    expect(host.titles()).toEqual(['Item 2']);
  });

  it('reports a timeout for a feed that does not answer', async () => {
    server.routes.set('/slow.xml', () => new Promise(() => undefined));
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/slow.xml')], timeout: '150ms' }));
    await waitFor(() => poller.snapshot()[0]!.state === 'error', 'timeout');
    expect(poller.snapshot()[0]!.error).toBe('timed out after 150ms');
  });

  it('keeps an item unseen when its message cannot be sent, and sends it once later', async () => {
    const items = [item(1)];
    server.rss('/s.xml', () => items);
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/s.xml')] }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'baseline');
    host.failSends = 'host unavailable';
    items.unshift(item(3), item(2));
    await waitFor(() => poller.snapshot()[0]!.state === 'error', 'send failure');
    expect(poller.snapshot()[0]!.error).toBe('sending a message failed: host unavailable');
    host.failSends = undefined;
    await waitFor(() => host.messages.length === 2, 'both items');
    const polled = hits('/s.xml');
    await waitFor(() => hits('/s.xml') >= polled + 2, 'more polls');
    expect(host.titles()).toEqual(['Item 2', 'Item 3']);
  });

  it('remembers a sent item in memory when storage fails, and stores it on a later poll', async () => {
    const items = [item(1)];
    server.rss('/w.xml', () => items);
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/w.xml')] }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'baseline');
    host.failWrites = 'quota exceeded';
    items.unshift(item(2));
    await waitFor(() => poller.snapshot()[0]!.state === 'error', 'storage failure');
    expect(poller.snapshot()[0]!.error).toBe('saving seen items failed: quota exceeded');
    // The next poll retries the write before fetching.
    await waitFor(() => poller.snapshot()[0]!.failures >= 2, 'a second failure');
    expect(host.messages).toHaveLength(1);
    host.failWrites = undefined;
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'recovery');
    expect(host.titles()).toEqual(['Item 2']);
    const stored = FeedRecord.decode(host.store.get(storageKeyFor(server.url('/w.xml')))!)!;
    expect(stored.seen.size).toBe(2);
  });

  it('never fetches more feeds at once than the concurrency allows', async () => {
    for (let i = 0; i < 12; i++) {
      const path = `/c${i}.xml`;
      server.rss(`/inner${i}`, () => [item(i)]);
      const inner = server.routes.get(`/inner${i}`)!;
      server.routes.set(path, async (req, res) => {
        // A slow feed (simulated latency, not a stand-in for an event), so fetches overlap.
        await new Promise((r) => setTimeout(r, 40));
        await inner(req, res);
      });
    }
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: Array.from({ length: 12 }, (_, i) => server.url(`/c${i}.xml`)), concurrency: 3, interval: '10s' }));
    await waitFor(() => poller.snapshot().every((r) => r.state === 'ok'), 'all feeds polled');
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it('stops polling on stop() and polls again on start()', async () => {
    server.rss('/t.xml', () => [item(1)]);
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/t.xml')] }));
    await waitFor(() => hits('/t.xml') >= 2, 'two polls');
    // A second poller on the same interval witnesses that time passes: two more of its polls
    // mean the stopped one would have polled at least once (no fixed sleep, however busy the machine).
    server.rss('/witness.xml', () => [item(1)]);
    start(new MemoryHost(), config({ feeds: [server.url('/witness.xml')] }));
    await poller.stop();
    await poller.stop();
    const stoppedAt = hits('/t.xml');
    const seen = hits('/witness.xml');
    await waitFor(() => hits('/witness.xml') >= seen + 2, 'two polls of the witness');
    expect(hits('/t.xml')).toBe(stoppedAt);
    expect(poller.running).toBe(false);
    poller.start();
    await waitFor(() => hits('/t.xml') > stoppedAt, 'poll after restart');
  });

  it('applies a new configuration: new feeds polled at once, removed ones forgotten', async () => {
    server.rss('/x.xml', () => [item(1)]);
    server.rss('/y.xml', () => [item(2)]);
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/x.xml')], interval: '1h' }));
    await waitFor(() => host.store.has(storageKeyFor(server.url('/x.xml'))), 'x stored');
    poller.reconfigure(config({ feeds: [{ url: server.url('/y.xml'), title: 'Why' }], interval: '1h' }));
    await waitFor(() => host.store.has(storageKeyFor(server.url('/y.xml'))), 'y stored');
    await waitFor(() => !host.store.has(storageKeyFor(server.url('/x.xml'))), 'x record deleted');
    expect(poller.snapshot().map((r) => r.name)).toEqual(['Why']);
    expect(hits('/x.xml')).toBe(1);
  });

  it('a feed removed while its poll is in flight sends nothing more', async () => {
    const items = [item(1)];
    let slow = false;
    // The slow poll is held until the test releases it, then answered with the new item.
    let release = (): void => undefined;
    const released = new Promise<void>((r) => (release = r));
    let answered = false;
    server.rss('/gone.xml', () => items);
    const serve = server.routes.get('/gone.xml')!;
    server.routes.set('/gone.xml', async (req, res) => {
      if (slow) await released;
      await serve(req, res);
      if (slow) answered = true;
    });
    server.rss('/kept.xml', () => [item(9)]);
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/gone.xml'), server.url('/kept.xml')] }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'baseline');
    slow = true;
    items.unshift(item(2));
    const polled = hits('/gone.xml');
    await waitFor(() => hits('/gone.xml') > polled, 'the slow poll started');
    poller.reconfigure(config({ feeds: [server.url('/kept.xml')] }));
    release();
    await waitFor(() => answered, 'the slow poll answered');
    await poller.idle();
    expect(host.messages).toEqual([]);
    expect(poller.snapshot().map((r) => r.url)).toEqual([server.url('/kept.xml')]);
  });

  it('moves the next poll when the interval changes', async () => {
    server.rss('/i.xml', () => [item(1)]);
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/i.xml')], interval: '1h' }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'first poll');
    expect(poller.snapshot()[0]!.nextPollAt! - poller.snapshot()[0]!.lastPollAt!).toBeGreaterThan(3_000_000);
    poller.reconfigure(config({ feeds: [server.url('/i.xml')], interval: '50ms' }));
    await waitFor(() => hits('/i.xml') >= 3, 'polls at the new interval');
  });

  it('caps the stored seen-set but keeps everything the feed still lists', async () => {
    const items: TestItem[] = Array.from({ length: 12 }, (_, i) => item(12 - i));
    server.rss('/cap.xml', () => items);
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/cap.xml')], seen_limit: 15 }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'baseline');
    for (let n = 13; n <= 22; n++) {
      items.unshift(item(n));
      items.pop();
      await waitFor(() => host.messages.length === n - 12, `item ${n}`);
    }
    await poller.stop();
    const stored = FeedRecord.decode(host.store.get(storageKeyFor(server.url('/cap.xml')))!)!;
    expect(stored.seen.size).toBeLessThanOrEqual(15);
    expect(host.titles()).toEqual(Array.from({ length: 10 }, (_, i) => `Item ${13 + i}`));
  });
});

describe('FeedPoller: items without a guid that share one link', () => {
  // A status page's feed: no guid, and every item links to the same page.
  const LINK = 'https://status.example.com/';
  const status = (n: number): TestItem => ({ title: `Status ${n}`, link: LINK, date: new Date(Date.UTC(2026, 0, 1, n)) });

  it('sends each of them once, across polls and a restart', async () => {
    const items = [status(1)];
    server.rss('/status.xml', () => items);
    const store = new Map<string, string>();
    const first = new MemoryHost(store);
    const a = start(first, config({ feeds: [server.url('/status.xml')] }));
    await waitFor(() => a.snapshot()[0]!.state === 'ok', 'baseline');

    items.unshift(status(2));
    await waitFor(() => first.messages.length === 1, 'status 2');
    items.unshift(status(4), status(3));
    await waitFor(() => first.messages.length === 3, 'statuses 3 and 4');
    expect(first.titles()).toEqual(['Status 2', 'Status 3', 'Status 4']);
    await a.stop();

    // The oldest falls off while the plugin is down; one more arrives.
    items.pop();
    items.unshift(status(5));
    const second = new MemoryHost(store);
    const b = start(second, config({ feeds: [server.url('/status.xml')] }));
    await waitFor(() => second.messages.length === 1, 'status 5');
    const before = hits('/status.xml');
    await waitFor(() => hits('/status.xml') >= before + 3, 'more polls');
    expect(second.titles()).toEqual(['Status 5']);
    expect(b.snapshot()[0]).toMatchObject({ state: 'ok', itemCount: 4 });
  });

  it('an item alone on its link, then joined by another: only the new one is sent', async () => {
    const items: TestItem[] = [{ title: 'Only', link: LINK }];
    server.rss('/alone.xml', () => items);
    const host = new MemoryHost();
    const poller = start(host, config({ feeds: [server.url('/alone.xml')] }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'baseline');
    items.unshift({ title: 'Newer', link: LINK });
    await waitFor(() => host.messages.length === 1, 'the newer item');
    items.shift();
    const before = hits('/alone.xml');
    await waitFor(() => hits('/alone.xml') >= before + 3, 'more polls');
    expect(host.titles()).toEqual(['Newer']);
  });

  it('a seen-set written by version 1 (link-only keys) sends none of the listed items again', async () => {
    const items = [status(3), status(2), status(1)];
    server.rss('/v1.xml', () => items);
    const store = new Map<string, string>([[storageKeyFor(server.url('/v1.xml')), JSON.stringify({ v: 1, ids: [itemKey(null, LINK, [])] })]]);
    const host = new MemoryHost(store);
    const poller = start(host, config({ feeds: [server.url('/v1.xml')] }));
    await waitFor(() => poller.snapshot()[0]!.state === 'ok', 'first poll');
    expect(host.messages).toEqual([]);
    expect(JSON.parse(store.get(storageKeyFor(server.url('/v1.xml')))!)).toMatchObject({ v: 2 });

    items.unshift(status(4));
    await waitFor(() => host.messages.length === 1, 'status 4');
    const before = hits('/v1.xml');
    await waitFor(() => hits('/v1.xml') >= before + 3, 'more polls');
    expect(host.titles()).toEqual(['Status 4']);
  });
});
