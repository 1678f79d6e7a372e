import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer, type PluginServer } from '../helpers/plugins.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Gotify 2.9.1 runs gin-contrib/cors (v1.7.6, auth.CorsConfig) on every API route; Flow's
// http/cors.ts does the same. Requests go through node:http so Host and Origin are ours to set.

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function raw(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const EVIL = 'http://evil.example';
const vary = (r: RawResponse) => String(r.headers.vary ?? '').split(/,\s*/);

describe('CORS with the default config (no server.cors.alloworigins)', () => {
  let s: TestServer;
  let host: string;
  const call = (method: string, path: string, headers: Record<string, string>, body?: string) => raw(s.url, method, path, headers, body);
  beforeAll(async () => {
    s = await startTestServer();
    host = new URL(s.url).host;
  });
  afterAll(() => s?.close());

  it('refuses a cross-origin POST /user with Basic credentials: 403, empty body, no user created', async () => {
    const json = JSON.stringify({ name: 'mallory', pass: 'x', admin: true });
    const r = await call('POST', '/user', { Origin: EVIL, Authorization: s.adminAuth, 'Content-Type': 'application/json' }, json);
    expect(r.status).toBe(403);
    expect(r.text).toBe('');
    expect(r.headers).not.toHaveProperty('access-control-allow-origin');
    // A plain HTML form post is refused the same way.
    const form = await call('POST', '/user', { Origin: EVIL, Authorization: s.adminAuth, 'Content-Type': 'application/x-www-form-urlencoded' }, 'name=mallory&pass=x&admin=true');
    expect(form.status).toBe(403);
    const users = await s.api('GET', '/user', { auth: s.adminAuth });
    expect(users.body.map((u: any) => u.name)).toEqual(['admin']);
  });

  it('refuses cross-origin reads and preflights too, unknown routes included', async () => {
    for (const [method, path] of [['GET', '/current/user'], ['GET', '/version'], ['OPTIONS', '/message'], ['GET', '/nope'], ['POST', '/health']]) {
      const r = await call(method!, path!, { Origin: EVIL, Authorization: s.adminAuth });
      expect([method, path, r.status, r.text]).toEqual([method, path, 403, '']);
    }
  });

  it('passes requests without Origin and same-origin ones (http or https + Host)', async () => {
    expect((await call('GET', '/current/user', { Authorization: s.adminAuth })).status).toBe(200);
    for (const origin of [`http://${host}`, `https://${host}`]) {
      const r = await call('GET', '/current/user', { Origin: origin, Authorization: s.adminAuth });
      expect(r.status).toBe(200);
      expect(r.headers).not.toHaveProperty('access-control-allow-origin');
    }
    const created = await call('POST', '/user', { Origin: `http://${host}`, Authorization: s.adminAuth, 'Content-Type': 'application/json' }, JSON.stringify({ name: 'carol', pass: 'pw' }));
    expect(created.status).toBe(200);
  });

  it('passes the web UI behind a proxy that rewrites Host when it sends X-Forwarded-Host', async () => {
    const proxied = { Origin: 'https://push.example.org', Host: 'flow-upstream:8080', Authorization: s.adminAuth };
    const r = await call('POST', '/client', { ...proxied, 'X-Forwarded-Host': 'push.example.org', 'Content-Type': 'application/json' }, JSON.stringify({ name: 'browser' }));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).name).toBe('browser');
    // A chain of proxies: the first host is the browser's.
    expect((await call('GET', '/current/user', { ...proxied, 'X-Forwarded-Host': 'push.example.org, edge.internal' })).status).toBe(200);
    // Without the header the Origin matches nothing, as in Gotify.
    expect((await call('GET', '/current/user', proxied)).status).toBe(403);
    expect((await call('GET', '/current/user', { ...proxied, 'X-Forwarded-Host': 'other.example.org' })).status).toBe(403);
  });

  it('leaves out what Gotify registers before cors: the web UI, GET /health and /image', async () => {
    const ui = await call('GET', '/', { Origin: EVIL });
    expect(ui.status).not.toBe(403);
    expect((await call('GET', '/health', { Origin: EVIL })).status).toBe(200);
    expect((await call('HEAD', '/health', { Origin: EVIL })).status).toBe(200);
    expect((await call('GET', '/image/none.png', { Origin: EVIL })).status).toBe(404);
  });

  it('keeps answering OPTIONS without a cross-origin Origin with 200 and an empty body', async () => {
    for (const headers of [{}, { Origin: `http://${host}` }] as Record<string, string>[]) {
      const r = await call('OPTIONS', '/anything/at/all', headers);
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
    }
  });
});

describe('CORS with server.cors.alloworigins/allowmethods/allowheaders', () => {
  let s: TestServer;
  const APP = 'https://app.example.com';
  beforeAll(async () => {
    s = await startTestServer({
      config: {
        'server.cors.alloworigins': ['^https://app\\.example\\.com$'],
        'server.cors.allowmethods': ['get', 'POST', ' post '],
        'server.cors.allowheaders': ['x-gotify-key', 'Content-Type'],
      },
    });
  });
  afterAll(() => s?.close());

  it('answers an allowed origin with Access-Control-Allow-Origin and Vary: Origin', async () => {
    const r = await raw(s.url, 'GET', '/current/user', { Origin: APP, Authorization: s.adminAuth });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe(APP);
    expect(vary(r)).toContain('Origin');
    expect(r.headers).not.toHaveProperty('access-control-max-age');
    // Matched lower-cased; the header echoes the Origin as sent. Errors keep the headers, so the page can read them.
    const upper = await raw(s.url, 'GET', '/current/user', { Origin: 'https://APP.example.com' });
    expect(upper.status).toBe(401);
    expect(upper.headers['access-control-allow-origin']).toBe('https://APP.example.com');
    expect(JSON.parse(upper.text).errorCode).toBe(401);
  });

  it('answers a preflight with 204, the configured methods and headers and Max-Age 43200', async () => {
    const r = await raw(s.url, 'OPTIONS', '/message', {
      Origin: APP,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'x-gotify-key,content-type',
    });
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect(r.headers['access-control-allow-origin']).toBe(APP);
    expect(r.headers['access-control-allow-methods']).toBe('GET,POST');
    expect(r.headers['access-control-allow-headers']).toBe('X-Gotify-Key,Content-Type');
    expect(r.headers['access-control-max-age']).toBe('43200');
    expect(vary(r)).toEqual(expect.arrayContaining(['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers']));
  });

  it('lets the allowed origin post a message and still refuses other origins', async () => {
    const app = await s.createApp({ name: 'browser app' });
    const r = await raw(s.url, 'POST', '/message', { Origin: APP, 'X-Gotify-Key': app.token, 'Content-Type': 'application/json' }, JSON.stringify({ message: 'hi' }));
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe(APP);
    const other = await raw(s.url, 'POST', '/message', { Origin: 'https://app.example.com.evil.example', 'X-Gotify-Key': app.token });
    expect(other.status).toBe(403);
    expect(other.headers).not.toHaveProperty('access-control-allow-origin');
  });

  it("does not change /stream's own origin check (server.stream.allowedorigins)", async () => {
    const client = await s.createClient('ws');
    // Allowed for the API, but not for the websocket: the upgrade keeps Gotify's stream rule.
    await expect(s.openStream(client.token, { Origin: APP })).rejects.toMatchObject({ status: 403 });
    const same = await s.openStream(client.token, { Origin: s.url });
    same.close();
  });
});

describe('CORS and /stream with server.stream.allowedorigins only', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ config: { 'server.stream.allowedorigins': ['^ws\\.example\\.com$'] } });
  });
  afterAll(() => s?.close());

  it('opens the stream for the stream-allowed origin while the REST API refuses it', async () => {
    const client = await s.createClient('ws');
    const st = await s.openStream(client.token, { Origin: 'https://ws.example.com' });
    st.close();
    await expect(s.openStream(client.token, { Origin: EVIL })).rejects.toMatchObject({ status: 403 });
    expect((await raw(s.url, 'GET', '/current/user', { Origin: 'https://ws.example.com', 'X-Gotify-Key': client.token })).status).toBe(403);
  });
});

describe('CORS and plugin webhooks', () => {
  let s: PluginServer;
  let mock: any;
  beforeAll(async () => {
    s = await startPluginServer(await pluginsDir(['mock']));
    mock = (await s.plugins()).find((p) => p.modulePath === 'github.com/flow/test/mock');
    await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth });
  });
  afterAll(() => s?.close());

  it('never blocks /plugin/:id/custom/… (third parties such as GitHub post there)', async () => {
    const path = new URL(hookUrl(s, mock, 'echo')).pathname;
    for (const method of ['POST', 'OPTIONS']) {
      const body = method === 'POST' ? 'payload' : undefined;
      const r = await raw(s.url, method, path, { Origin: EVIL, ...(body ? { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) } : {}) }, body);
      expect([method, r.status]).toEqual([method, 200]);
      expect(JSON.parse(r.text)).toMatchObject({ method, path: '/echo' });
      expect(r.headers).not.toHaveProperty('access-control-allow-origin');
    }
    // The plugin REST API next to it is guarded.
    expect((await raw(s.url, 'GET', '/plugin', { Origin: EVIL, Authorization: s.adminAuth })).status).toBe(403);
  });
});
