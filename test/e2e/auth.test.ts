import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestServer, type TestServer, type TestUser } from '../helpers/server.js';

const UNAUTHORIZED = {
  error: 'Unauthorized',
  errorCode: 401,
  errorDescription: 'you need to provide a valid access token or user credentials to access this api',
};
const FORBIDDEN = { error: 'Forbidden', errorCode: 403, errorDescription: 'you are not allowed to access this api' };

let s: TestServer;
let bob: TestUser;
let adminClient: { token: string };
let bobClient: { token: string };
let adminApp: { id: number; token: string };

beforeAll(async () => {
  s = await startTestServer();
  bob = await s.createUser('bob');
  adminClient = await s.createClient('admin phone');
  bobClient = await s.createClient('bob phone', bob.auth);
  adminApp = await s.createApp({ name: 'admin app' });
});
afterAll(() => s?.close());

/** Each way to present credentials, as header sets. */
type Way = { name: string; headers: (t: string) => Record<string, string>; query?: boolean };
const tokenWays: Way[] = [
  { name: 'X-Gotify-Key', headers: (t) => ({ 'X-Gotify-Key': t }) },
  { name: 'Bearer', headers: (t) => ({ Authorization: 'Bearer ' + t }) },
  { name: 'lower-case bearer', headers: (t) => ({ Authorization: 'bearer ' + t }) },
  { name: '?token=', headers: () => ({}), query: true },
];

async function call(method: string, path: string, way: Way, token: string) {
  const p = way.query ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path;
  return s.api(method, p, { headers: way.headers(token) });
}

describe('client auth (GET /current/user)', () => {
  it('rejects anonymous callers with 401', async () => {
    const r = await s.api('GET', '/current/user');
    expect(r.status).toBe(401);
    expect(r.body).toEqual(UNAUTHORIZED);
  });

  it.each(tokenWays)('accepts a client token via $name', async (way) => {
    const r = await call('GET', '/current/user', way, bobClient.token);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: bob.id, name: 'bob', admin: false });
  });

  it('accepts HTTP Basic, repeatedly (cached verification)', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await s.api('GET', '/current/user', { auth: bob.auth });
      expect(r.body.name).toBe('bob');
    }
  });

  it('rejects a wrong password, an unknown user and a malformed Basic header with 401', async () => {
    for (const auth of [basic('bob', 'wrong'), basic('nobody', 'x'), 'Basic !!!', 'Basic ' + Buffer.from('nocolon').toString('base64')]) {
      const r = await s.api('GET', '/current/user', { auth });
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
    }
  });

  it('rejects an application token and an unknown token with 401', async () => {
    for (const token of [adminApp.token, 'Cnotarealtoken1']) {
      const r = await s.api('GET', '/current/user', { token });
      expect(r.status).toBe(401);
    }
  });

  it('uses a valid token when the Basic credentials are wrong (Gotify checks both)', async () => {
    const r = await s.api('GET', '/current/user?token=' + bobClient.token, { auth: basic('admin', 'wrong') });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe('bob');
  });
});

describe('admin auth (GET /user)', () => {
  it('allows an admin by Basic and by client token', async () => {
    expect((await s.api('GET', '/user', { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('GET', '/user', { token: adminClient.token })).status).toBe(200);
  });

  it('refuses a non-admin with 403, by Basic and by client token', async () => {
    for (const o of [{ auth: bob.auth }, { token: bobClient.token }]) {
      const r = await s.api('GET', '/user', o);
      expect(r.status).toBe(403);
      expect(r.body).toEqual(FORBIDDEN);
    }
  });

  it('refuses anonymous and application tokens with 401', async () => {
    expect((await s.api('GET', '/user')).status).toBe(401);
    expect((await s.api('GET', '/user', { token: adminApp.token })).status).toBe(401);
  });
});

describe('application auth (POST /message)', () => {
  it.each(tokenWays)('accepts an application token via $name', async (way) => {
    const p = way.query ? `/message?token=${adminApp.token}` : '/message';
    const r = await s.api('POST', p, { headers: way.headers(adminApp.token), json: { message: 'via ' + way.name } });
    expect(r.status).toBe(200);
    expect(r.body.appid).toBe(adminApp.id);
  });

  // Gotify 3.0: Basic or a client token may post when naming the application by `appid`
  // (Gotify 2.9 answered 403 / 401: no 2.9 client relies on either; see test/e2e/gotify3-api.test.ts).
  it('takes Basic credentials or a client token only with an appid (Gotify 3.0)', async () => {
    for (const o of [{ auth: s.adminAuth }, { token: adminClient.token }]) {
      const r = await s.api('POST', '/message', { ...o, json: { message: 'x' } });
      expect(r.status).toBe(400);
      expect(r.body.errorDescription).toBe('appid is required when not authenticating with an application token');
    }
  });

  it('refuses anonymous callers and unknown tokens with 401', async () => {
    for (const o of [{ token: 'Cnot-a-token-12' }, {}]) {
      const r = await s.api('POST', '/message', { ...o, json: { message: 'x' } });
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED);
    }
  });
});

describe('tokens', () => {
  it('have Gotify 2.9.1 formats and are unique', async () => {
    const apps = await Promise.all(Array.from({ length: 20 }, (_, i) => s.createApp({ name: 'a' + i })));
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => s.createClient('c' + i)));
    for (const a of apps) expect(a.token).toMatch(/^A[A-Za-z0-9._-]{14}$/);
    for (const c of clients) expect(c.token).toMatch(/^C[A-Za-z0-9._-]{14}$/);
    const all = [...apps, ...clients].map((x) => x.token);
    expect(new Set(all).size).toBe(all.length);
    for (const a of apps) expect((await s.api('DELETE', `/application/${a.id}`, { auth: s.adminAuth })).status).toBe(200);
    for (const c of clients) expect((await s.api('DELETE', `/client/${c.id}`, { auth: s.adminAuth })).status).toBe(200);
  });
});
