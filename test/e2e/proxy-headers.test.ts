/**
 * Gotify's `server.responseheaders` and `server.trustedproxies`, through HTTP. Requests come from
 * chosen loopback addresses (127.0.0.0/8 is all loopback on Linux), so one test plays both a
 * trusted reverse proxy (127.0.0.2) and a caller that is not one (127.0.0.3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { basic, startTestServer, type TestServer } from '../helpers/server.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

function request(s: TestServer, path: string, opts: { from?: string; headers?: Record<string, string>; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${s.url}${path}`, { method: opts.method ?? 'GET', localAddress: opts.from ?? '127.0.0.1', headers: opts.headers ?? {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON (the web UI)
        }
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.3';

describe('server.responseheaders', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      config: { 'server.responseheaders': { 'X-Custom-Header': 'custom value', 'Strict-Transport-Security': 'max-age=63072000', 'Content-Type': 'text/x-default' } },
    });
  });
  afterAll(() => s?.close());

  it('are on every response: API, errors, unknown paths, the web UI', async () => {
    for (const [path, status] of [['/version', 200], ['/current/user', 401], ['/no/such/path', 404], ['/', 200], ['/health', 200]] as const) {
      const r = await request(s, path);
      expect([path, r.status]).toEqual([path, status]);
      expect(r.headers['x-custom-header']).toBe('custom value');
      expect(r.headers['strict-transport-security']).toBe('max-age=63072000');
    }
  });

  it("leave a response's own header alone (a route's Content-Type), as Gotify", async () => {
    expect((await request(s, '/version')).headers['content-type']).toMatch(/^application\/json/);
    expect((await request(s, '/')).headers['content-type']).toMatch(/^text\/html/);
    expect((await request(s, '/current/user')).headers['content-type']).toMatch(/^application\/json/);
  });
});

describe('server.trustedproxies set', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ config: { 'server.trustedproxies': [`${PROXY}/32`, '10.0.0.0/8'] } });
  });
  afterAll(() => s?.close());

  it("a trusted proxy's X-Forwarded-For is the client address that login throttling counts", async () => {
    await s.createUser('bob', 'right');
    const viaProxy = (client: string, pass: string) =>
      request(s, '/current/user', { from: PROXY, headers: { Authorization: basic('bob', pass), 'X-Forwarded-For': `${client}, 10.1.2.3` } });
    for (let i = 0; i < 10; i++) expect((await viaProxy('203.0.113.7', 'wrong' + i)).status).toBe(401);
    expect((await viaProxy('203.0.113.7', 'wrong')).status).toBe(429);
    // Another client behind the same proxy is not throttled: the proxy's address is not what counts.
    expect((await viaProxy('203.0.113.8', 'right')).status).toBe(200);
  });

  it("anyone else's X-Forwarded-For is ignored: a guesser cannot pick a fresh address per try", async () => {
    await s.createUser('carl', 'right');
    for (let i = 0; i < 10; i++) {
      const r = await request(s, '/current/user', { from: STRANGER, headers: { Authorization: basic('carl', 'wrong'), 'X-Forwarded-For': `198.51.100.${i}` } });
      expect(r.status).toBe(401);
    }
    const refused = await request(s, '/current/user', { from: STRANGER, headers: { Authorization: basic('carl', 'right'), 'X-Forwarded-For': '198.51.100.99' } });
    expect(refused.status).toBe(429);
  });

  it("X-Forwarded-Proto/-Host shape the URLs sent back only from a trusted proxy", async () => {
    const app = await s.createApp({ name: 'paging' });
    for (const message of ['one', 'two']) expect((await s.api('POST', '/message', { token: app.token, json: { message } })).status).toBe(200);
    const forwarded = { Authorization: s.adminAuth, 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'push.example.com' };
    const viaProxy = await request(s, '/message?limit=1', { from: PROXY, headers: forwarded });
    expect(viaProxy.body.paging.next).toMatch(/^https:\/\/push\.example\.com\/message\?limit=1&since=\d+$/);
    const direct = await request(s, '/message?limit=1', { from: STRANGER, headers: forwarded });
    expect(direct.body.paging.next.startsWith(`${s.url}/message?limit=1&since=`)).toBe(true);
    // Nor does a stranger's X-Forwarded-Host make its Origin the server's own (CORS): 403.
    const cors = await request(s, '/version', { from: STRANGER, headers: { Origin: 'https://push.example.com', 'X-Forwarded-Host': 'push.example.com' } });
    expect(cors.status).toBe(403);
    const corsViaProxy = await request(s, '/version', { from: PROXY, headers: { Origin: 'https://push.example.com', 'X-Forwarded-Host': 'push.example.com' } });
    expect(corsViaProxy.status).toBe(200);
  });
});

describe('server.trustedproxies empty (the default), as Gotify', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s?.close());

  it('X-Forwarded-Proto/-Host are read from any caller, X-Forwarded-For from none', async () => {
    const app = await s.createApp({ name: 'paging' });
    for (const message of ['one', 'two']) expect((await s.api('POST', '/message', { token: app.token, json: { message } })).status).toBe(200);
    const r = await request(s, '/message?limit=1', { from: STRANGER, headers: { Authorization: s.adminAuth, 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'push.example.com' } });
    expect(r.body.paging.next).toMatch(/^https:\/\/push\.example\.com\//);

    await s.createUser('dora', 'right');
    for (let i = 0; i < 10; i++) {
      expect((await request(s, '/current/user', { from: STRANGER, headers: { Authorization: basic('dora', 'wrong'), 'X-Forwarded-For': `198.51.100.${i}` } })).status).toBe(401);
    }
    expect((await request(s, '/current/user', { from: STRANGER, headers: { Authorization: basic('dora', 'right'), 'X-Forwarded-For': '198.51.100.99' } })).status).toBe(429);
  });
});
