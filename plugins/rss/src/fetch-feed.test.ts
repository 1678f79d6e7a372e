import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedServer, rssXml } from '../test/feed-server.js';
import { FeedFetchError, FetchAborted, fetchFeed, type FetchOptions } from './fetch-feed.js';

let server: FeedServer;
beforeAll(async () => {
  server = await FeedServer.start();
});
afterAll(async () => {
  await server.close();
});

const opts = (extra: Partial<FetchOptions> = {}): FetchOptions => ({ timeoutMs: 2000, maxBytes: 64 * 1024, signal: new AbortController().signal, ...extra });

async function failure(url: string, options: FetchOptions): Promise<unknown> {
  try {
    await fetchFeed(url, options);
  } catch (err) {
    return err;
  }
  throw new Error('fetch succeeded');
}

describe('fetchFeed', () => {
  it('returns the body and validators, then 304 for a conditional GET', async () => {
    server.rss('/ok.xml', () => [{ guid: '1', title: 'one' }]);
    const first = await fetchFeed(server.url('/ok.xml'), opts());
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    expect(first.text).toContain('<title>one</title>');
    expect(first.etag).toMatch(/^"/);
    const second = await fetchFeed(server.url('/ok.xml'), opts({ etag: first.etag! }));
    expect(second).toEqual({ kind: 'not-modified' });
  });

  it('follows redirects and reports the final URL', async () => {
    server.rss('/moved.xml', () => [{ guid: '1', title: 'moved' }]);
    server.routes.set('/old.xml', (_req, res) => void res.writeHead(301, { location: '/moved.xml' }).end());
    const result = await fetchFeed(server.url('/old.xml'), opts());
    expect(result).toMatchObject({ kind: 'ok', finalUrl: server.url('/moved.xml') });
  });

  it('fails on a redirect loop', async () => {
    server.routes.set('/loop', (_req, res) => void res.writeHead(302, { location: '/loop' }).end());
    const err = await failure(server.url('/loop'), opts());
    expect(err).toBeInstanceOf(FeedFetchError);
  });

  it('reports HTTP errors with the status and honours Retry-After on 503', async () => {
    server.text('/500', 'boom', 'text/plain', 500);
    expect(await failure(server.url('/500'), opts())).toMatchObject({ message: 'HTTP 500 Internal Server Error' });
    server.routes.set('/503', (_req, res) => void res.writeHead(503, { 'retry-after': '120' }).end());
    expect(await failure(server.url('/503'), opts())).toMatchObject({ message: 'HTTP 503 Service Unavailable', retryAfterMs: 120_000 });
  });

  it('times out on a server that never answers, and on a body that never ends', async () => {
    server.routes.set('/hang', () => new Promise(() => undefined));
    expect(await failure(server.url('/hang'), opts({ timeoutMs: 200 }))).toMatchObject({ message: 'timed out after 200ms' });
    server.routes.set('/trickle', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.write('<rss>');
    });
    expect(await failure(server.url('/trickle'), opts({ timeoutMs: 200 }))).toMatchObject({ message: 'timed out after 200ms' });
  });

  it('rejects bodies over max_size, declared or streamed', async () => {
    server.text('/big', 'x'.repeat(10_000));
    expect(await failure(server.url('/big'), opts({ maxBytes: 4096 }))).toMatchObject({ message: 'response larger than 4 KB (max_size)' });
    server.routes.set('/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      const chunk = 'y'.repeat(1024);
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    });
    expect(await failure(server.url('/endless'), opts({ maxBytes: 8192 }))).toMatchObject({ message: 'response larger than 8 KB (max_size)' });
  });

  it('reports a refused connection', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    expect(await failure(`http://127.0.0.1:${port}/feed`, opts())).toMatchObject({ message: 'connection refused' });
  });

  it('rejects with FetchAborted when the instance stops mid-request', async () => {
    const controller = new AbortController();
    // Aborted once the request has reached the server (mid-request), which then never answers.
    server.routes.set('/slow', () => {
      controller.abort();
      return new Promise(() => undefined);
    });
    const pending = failure(server.url('/slow'), opts({ signal: controller.signal }));
    expect(await pending).toBeInstanceOf(FetchAborted);
  });

  it('decodes the charset from the header or the XML declaration', async () => {
    const latin1 = Buffer.from(rssXml('Caf\u00e9', []).replace('UTF-8', 'ISO-8859-1'), 'latin1');
    server.text('/latin1', latin1, 'application/xml');
    const result = await fetchFeed(server.url('/latin1'), opts());
    expect(result.kind === 'ok' && result.text).toContain('<title>Caf\u00e9</title>');
  });

  it('decodes UTF-16 by its byte order mark or its XML declaration, even under a wrong charset', async () => {
    const xml = rssXml('Caf\u00e9 \u2603', []).replace('UTF-8', 'UTF-16');
    const be = Buffer.from(xml, 'utf16le').swap16();
    server.text('/le-bom', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]), 'application/xml; charset=utf-8');
    server.text('/be-bom', Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'application/xml');
    server.text('/le-plain', Buffer.from(xml, 'utf16le'), 'application/xml');
    server.text('/be-plain', be, 'text/xml');
    for (const route of ['/le-bom', '/be-bom', '/le-plain', '/be-plain']) {
      const result = await fetchFeed(server.url(route), opts());
      expect(result.kind === 'ok' && result.text, route).toMatch(/^<\?xml[^>]*\?>\s*<rss/);
      expect(result.kind === 'ok' && result.text, route).toContain('<title>Caf\u00e9 \u2603</title>');
    }
  });
});
