/**
 * Gotify 3.0's API beside 2.9's: /gotifyinfo, POST /message with appid, token rotation, client
 * elevation, enhanced tokens as the new-token format, and cookie sessions (login, logout, CSRF).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signEnhancedToken } from '../../server/src/services/enhanced-token.js';
import { basic, startTestServer, type TestServer, type TestUser } from '../helpers/server.js';

let s: TestServer;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer();
  bob = await s.createUser('bob', 'bob-pw');
});
afterAll(() => s?.close());

const NOT_ELEVATED = 'session not elevated, use basic auth or call /client:elevate';

describe('Gotify 3.0 endpoints', () => {
  it('GET /gotifyinfo tells version, registration and OIDC', async () => {
    const r = await s.api('GET', '/gotifyinfo');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ version: '2.9.1', register: false, oidc: false });
  });

  it('POST /message with a client token or Basic and the appid of one of the user’s applications', async () => {
    const app = await s.createApp({ name: 'bob app', defaultPriority: 3 }, bob.auth);
    const client = await s.createClient('bob phone', bob.auth);
    const viaBasic = await s.api('POST', '/message', { auth: bob.auth, json: { appid: app.id, message: 'by basic' } });
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.body).toMatchObject({ appid: app.id, title: 'bob app', priority: 3, message: 'by basic' });
    const viaClient = await s.api('POST', '/message', { token: client.token, form: { appid: String(app.id), message: 'by client', priority: '9' } });
    expect(viaClient.body).toMatchObject({ appid: app.id, priority: 9 });
    // Android 2.10.1 sends the client token plus appid in the JSON body.
    const stream = await s.openStream(client.token);
    await s.api('POST', '/message', { token: client.token, json: { appid: app.id, message: 'streamed' } });
    expect((await stream.next()).message).toBe('streamed');
    stream.close();

    const adminApp = await s.createApp({ name: 'admin app' });
    const foreign = await s.api('POST', '/message', { token: client.token, json: { appid: adminApp.id, message: 'x' } });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toEqual({ error: 'Bad Request', errorCode: 400, errorDescription: 'appid not found' });
    expect((await s.api('POST', '/message', { auth: bob.auth, json: { appid: 999999, message: 'x' } })).body.errorDescription).toBe('appid not found');
    const missing = await s.api('POST', '/message', { token: client.token, json: { message: 'x' } });
    expect(missing.body).toEqual({ error: 'Bad Request', errorCode: 400, errorDescription: 'appid is required when not authenticating with an application token' });
    // An application token still decides the application; appid is ignored, as Gotify 3.
    const byApp = await s.api('POST', '/message', { token: app.token, json: { appid: adminApp.id, message: 'own' } });
    expect(byApp.body.appid).toBe(app.id);
    expect((await s.api('POST', '/message', { auth: basic('bob', 'wrong'), json: { appid: app.id, message: 'x' } })).status).toBe(401);
  });

  it('PUT /application/:id/security rotates the token: the old one stops at once; needs Basic or an elevated client', async () => {
    const app = await s.createApp({ name: 'rotate me' }, bob.auth);
    const client = await s.createClient('bob laptop', bob.auth);
    const refused = await s.api('PUT', `/application/${app.id}/security`, { token: client.token, json: { regenerateToken: true } });
    expect(refused.status).toBe(403);
    expect(refused.body.errorDescription).toBe(NOT_ELEVATED);

    const noop = await s.api('PUT', `/application/${app.id}/security`, { auth: bob.auth, json: { regenerateToken: false } });
    expect(noop.status).toBe(200);
    expect(noop.body).toEqual({});
    const r = await s.api('PUT', `/application/${app.id}/security`, { auth: bob.auth, json: { regenerateToken: true } });
    expect(r.status).toBe(200);
    const token = r.body.regenerateToken.token;
    expect(token).toMatch(/^A[A-Za-z0-9._-]{14}$/);
    expect((await s.api('POST', '/message', { token: app.token, json: { message: 'old' } })).status).toBe(401);
    expect((await s.api('POST', '/message', { token, json: { message: 'new' } })).body.appid).toBe(app.id);
    const listed = (await s.api('GET', '/application', { auth: bob.auth })).body.find((a: any) => a.id === app.id);
    expect(listed.token).toBe(token);
    expect((await s.api('PUT', `/application/${app.id}/security`, { auth: s.adminAuth, json: { regenerateToken: true } })).status).toBe(404);

    // POST /client/:id/elevate (Basic) lets that client rotate for the given duration.
    expect((await s.api('POST', `/client/${client.id}/elevate`, { auth: bob.auth, json: {} })).body.errorDescription).toBe("Field 'durationSeconds' is required");
    const el = await s.api('POST', `/client/${client.id}/elevate`, { auth: bob.auth, json: { durationSeconds: 600 } });
    expect(el.status).toBe(204);
    const byClient = await s.api('PUT', `/application/${app.id}/security`, { token: client.token, json: { regenerateToken: true } });
    expect(byClient.status).toBe(200);
    expect(byClient.body.regenerateToken.token).not.toBe(token);
  });

  it('PUT /client/:id/security rotates a client token and closes the streams opened with the old one', async () => {
    const client = await s.createClient('to rotate', bob.auth);
    const stream = await s.openStream(client.token);
    const r = await s.api('PUT', `/client/${client.id}/security`, { auth: bob.auth, json: { regenerateToken: true } });
    expect(r.status).toBe(200);
    const token = r.body.regenerateToken.token;
    expect(token).toMatch(/^C[A-Za-z0-9._-]{14}$/);
    await stream.closed;
    expect((await s.api('GET', '/current/user', { token: client.token })).status).toBe(401);
    expect((await s.api('GET', '/current/user', { token })).body.name).toBe('bob');
  });
});

describe('tokenformat: enhanced', () => {
  let e: TestServer;
  beforeAll(async () => {
    e = await startTestServer({ config: { tokenformat: 'enhanced' } });
  });
  afterAll(() => e?.close());

  it('issues Gotify 3 Ed25519 tokens once, stores only their public form, accepts private and signed forms', async () => {
    const app = await e.createApp({ name: 'enhanced' });
    expect(app.token).toMatch(/^gtfya\.[A-Za-z0-9_-]{43}$/);
    const listed = (await e.api('GET', '/application', { auth: e.adminAuth })).body.find((a: any) => a.id === app.id);
    expect(listed.token).toMatch(/^gtfya\./);
    expect(listed.token).not.toBe(app.token);
    // The listed public form is not a credential.
    expect((await e.api('POST', '/message', { token: listed.token, json: { message: 'x' } })).status).toBe(401);
    expect((await e.api('POST', '/message', { token: app.token, json: { message: 'private form' } })).body.appid).toBe(app.id);
    const signed = signEnhancedToken(app.token, Math.floor(Date.now() / 1000));
    expect((await e.api('POST', '/message', { token: signed, json: { message: 'signed' } })).body.appid).toBe(app.id);
    const stale = signEnhancedToken(app.token, Math.floor(Date.now() / 1000) - 3600);
    expect((await e.api('POST', '/message', { token: stale, json: { message: 'x' } })).status).toBe(401);

    const client = await e.createClient('enhanced client');
    expect(client.token).toMatch(/^gtfyc\./);
    expect((await e.api('GET', '/current/user', { token: client.token })).body.name).toBe('admin');
    const rotated = await e.api('PUT', `/application/${app.id}/security`, { auth: e.adminAuth, json: { regenerateToken: true } });
    expect(rotated.body.regenerateToken.token).toMatch(/^gtfya\./);
    expect((await e.api('POST', '/message', { token: app.token, json: { message: 'x' } })).status).toBe(401);
  });
});

describe('cookie sessions', () => {
  const cookieOf = (h: Headers) => (h.get('set-cookie') ?? '').split(';')[0]!;

  it('logs in with name/password (JSON or form), sets an HttpOnly SameSite cookie accepted like a client token', async () => {
    const r = await s.api('POST', '/auth/local/login', { json: { name: 'bob', password: 'bob-pw' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: bob.id, name: 'bob', admin: false });
    expect(r.body.clientId).toBeGreaterThan(0);
    expect(Date.parse(r.body.elevatedUntil)).toBeGreaterThan(Date.now());
    const setCookie = r.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^gotify-client-token=C[^;]+; Path=\/; Max-Age=604800; HttpOnly; SameSite=Strict$/);
    const cookie = cookieOf(r.headers);
    expect((await s.api('GET', '/current/user', { headers: { cookie } })).body.name).toBe('bob');
    expect((await s.api('GET', '/message', { headers: { cookie } })).status).toBe(200);
    // Same-origin writes pass; a cross-site one is refused (CSRF), as is one from a foreign Origin.
    const same = await s.api('POST', '/client', { headers: { cookie, 'sec-fetch-site': 'same-origin' }, json: { name: 'from ui' } });
    expect(same.status).toBe(200);
    const cross = await s.api('POST', '/client', { headers: { cookie, 'sec-fetch-site': 'cross-site' }, json: { name: 'evil' } });
    expect(cross.status).toBe(403);
    const foreign = await s.api('DELETE', `/client/${same.body.id}`, { headers: { cookie, origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    // The session is elevated after login: it may rotate tokens.
    const app = await s.createApp({ name: 'session app' }, bob.auth);
    expect((await s.api('PUT', `/application/${app.id}/security`, { headers: { cookie }, json: { regenerateToken: true } })).status).toBe(200);

    const form = await s.api('POST', '/auth/local/login', { form: { name: 'bob', password: 'bob-pw', clientName: 'my browser' } });
    expect(form.status).toBe(200);
    const clients = (await s.api('GET', '/client', { auth: bob.auth })).body;
    expect(clients.find((c: any) => c.id === form.body.clientId).name).toBe('my browser');
  });

  it('Gotify 3 style: Basic credentials with the client name as form field', async () => {
    const r = await s.api('POST', '/auth/local/login', { auth: bob.auth, form: { name: 'gotify ui' } });
    expect(r.status).toBe(200);
    const clients = (await s.api('GET', '/client', { auth: bob.auth })).body;
    expect(clients.find((c: any) => c.id === r.body.clientId).name).toBe('gotify ui');
  });

  it('refuses wrong credentials and cross-site logins without a cookie', async () => {
    for (const o of [{ json: { name: 'bob', password: 'nope' } }, { json: { name: 'nobody', password: 'x' } }, { auth: basic('bob', 'nope') }, {}]) {
      const r = await s.api('POST', '/auth/local/login', o);
      expect(r.status).toBe(401);
      expect(r.headers.get('set-cookie')).toBeNull();
    }
    const cross = await s.api('POST', '/auth/local/login', { headers: { 'sec-fetch-site': 'cross-site' }, json: { name: 'bob', password: 'bob-pw' } });
    expect(cross.status).toBe(403);
    expect(cross.headers.get('set-cookie')).toBeNull();
  });

  it('logs out: the session client is deleted, its streams close and the cookie is cleared', async () => {
    const r = await s.api('POST', '/auth/local/login', { json: { name: 'bob', password: 'bob-pw' } });
    const cookie = cookieOf(r.headers);
    const ws = await s.openStream('', { cookie });
    const out = await s.api('POST', '/auth/logout', { headers: { cookie } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^gotify-client-token=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
    await ws.closed;
    expect((await s.api('GET', '/current/user', { headers: { cookie } })).status).toBe(401);
    expect((await s.api('GET', '/client', { auth: bob.auth })).body.some((c: any) => c.id === r.body.clientId)).toBe(false);
    const basicLogout = await s.api('POST', '/auth/logout', { auth: bob.auth });
    expect(basicLogout.status).toBe(403);
    expect(basicLogout.body.errorDescription).toBe('no client auth provided');
  });

  it('a session expires after its inactivity period; GET /auth/info describes the login page', async () => {
    const r = await s.api('POST', '/auth/local/login', { json: { name: 'bob', password: 'bob-pw' } });
    const cookie = cookieOf(r.headers);
    // White-box: make the last use 8 days old (sessions expire after 7 days without use).
    await s.flow.app.store.clients.update(r.body.clientId, { lastUsed: new Date(Date.now() - 8 * 86_400_000).toISOString() });
    expect((await s.api('GET', '/current/user', { headers: { cookie } })).status).toBe(401);
    expect((await s.api('GET', '/auth/info')).body).toEqual({ localLogin: true, oidc: false, registration: false });
  });
});
