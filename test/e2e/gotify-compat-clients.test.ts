/**
 * Gotify 2.9.1 compatibility, driven the way real clients drive the API (read from their
 * sources, not from Flow's): the `gotify` CLI (gotify/cli over the go-swagger client
 * gotify/go-api-client), the Android app (gotify/android: Retrofit client + OkHttp websocket)
 * and the python-gotify library (d-k-bo/python-gotify). Shapes, codes and texts are those of
 * gotify/server v2.9.1 (api/*.go, model/*.go, auth/authentication.go).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { basic, startTestServer, type TestServer, type TestUser } from '../helpers/server.js';

let s: TestServer;
let dana: TestUser;
beforeAll(async () => {
  s = await startTestServer();
  dana = await s.createUser('dana');
});
afterAll(() => s?.close());

/** RFC 3339 with an offset, as Go encodes time.Time and OkHttp's OffsetDateTime parses it. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
/** Gotify 2.9.1 tokens: prefix + 14 of [a-zA-Z0-9._-]; `gotify init` insists on length 15. */
const tokenOf = (prefix: string) => new RegExp(`^${prefix}[a-zA-Z0-9._-]{14}$`);

/** The headers go-openapi's runtime sends with a JSON body. */
const goSwagger = (auth: Record<string, string>) => ({ 'Content-Type': 'application/json', Accept: 'application/json', ...auth });

describe('gotify CLI (gotify/cli, go-api-client v2)', () => {
  it('`gotify init`: anonymous /version, Basic login, then an application from a go-swagger body', async () => {
    const version = await s.api('GET', '/version', { headers: { Accept: 'application/json' } });
    expect(version.status).toBe(200);
    expect(Object.keys(version.body)).toEqual(['version', 'commit', 'buildDate']);

    const me = await s.api('GET', '/current/user', { headers: goSwagger({ Authorization: dana.auth }) });
    expect(me.body).toEqual({ id: dana.id, name: 'dana', admin: false });

    // models.Application marshals every field; the read-only ones must be ignored, not trusted.
    const body = { id: 77, token: 'Achosenbyclient', name: 'backup', description: '', internal: true, image: 'x.png' };
    const app = await s.api('POST', '/application', { headers: goSwagger({ Authorization: dana.auth }), body: JSON.stringify(body) });
    expect(app.status).toBe(200);
    expect(app.body.token).toMatch(tokenOf('A'));
    expect(app.body).toMatchObject({ name: 'backup', description: '', internal: false, image: 'static/defaultapp.png', defaultPriority: 0, lastUsed: null });
    expect(app.body.id).not.toBe(77);
  });

  it('`gotify init` validates a typed token by pushing; `gotify push` keeps an explicit priority 0', async () => {
    const app = await s.createApp({ name: 'nightly', defaultPriority: 5 }, dana.auth);
    const before = Date.now();
    // models.MessageExternal: id, appid and a zero date are always sent; priority is a plain int.
    const probe = { id: 0, appid: 0, message: 'Test message from Gotify CLI', title: 'Test message', priority: 0, date: '0001-01-01T00:00:00.000Z' };
    const r = await s.api('POST', '/message', { headers: goSwagger({ 'X-Gotify-Key': app.token }), body: JSON.stringify(probe) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ appid: app.id, message: 'Test message from Gotify CLI', title: 'Test message', priority: 0 });
    expect(r.body.id).toBeGreaterThan(0);
    expect(r.body.date).toMatch(RFC3339);
    expect(Date.parse(r.body.date)).toBeGreaterThanOrEqual(before - 1000);
    expect(r.body).not.toHaveProperty('extras');

    // `gotify push -t "" --contentType text/markdown --clickUrl … --bigImageUrl …`
    const extras = {
      'client::display': { contentType: 'text/markdown' },
      'client::notification': { click: { url: 'https://example.com/build/42' }, bigImageUrl: 'https://example.com/graph.png' },
    };
    const push = { id: 0, appid: 0, message: '**done**', title: '', priority: 2, extras, date: '0001-01-01T00:00:00.000Z' };
    const pushed = await s.api('POST', '/message', { headers: goSwagger({ 'X-Gotify-Key': app.token }), body: JSON.stringify(push) });
    expect(pushed.body).toMatchObject({ title: 'nightly', priority: 2, extras });

    // A wrong token: the CLI prints the error body.
    const bad = await s.api('POST', '/message', { headers: goSwagger({ 'X-Gotify-Key': 'Anotavalidtoken' }), body: JSON.stringify(probe) });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({
      error: 'Unauthorized',
      errorCode: 401,
      errorDescription: 'you need to provide a valid access token or user credentials to access this api',
    });
  });
});

describe('Gotify Android app (gotify/android)', () => {
  it('logs in with Basic via POST /client, then uses only the client token (lastUsed gets set)', async () => {
    const login = await s.api('POST', '/client', { auth: dana.auth, json: { name: 'Pixel 8' } });
    expect(login.status).toBe(200);
    expect(Object.keys(login.body)).toEqual(['id', 'token', 'name', 'lastUsed']);
    expect(login.body).toMatchObject({ name: 'Pixel 8', lastUsed: null });
    expect(login.body.token).toMatch(tokenOf('C'));

    const me = await s.api('GET', '/current/user', { token: login.body.token });
    expect(me.body).toEqual({ id: dana.id, name: 'dana', admin: false });
    const clients = await s.api('GET', '/client', { token: login.body.token });
    const self = clients.body.find((c: any) => c.id === login.body.id);
    expect(self.lastUsed).toMatch(RFC3339);
  });

  it('logs out: finds its own client by token in GET /client and deletes it with that token', async () => {
    const phone = await s.createClient('logout phone', dana.auth);
    const stream = await s.openStream(phone.token);
    const listed = await s.api('GET', '/client', { token: phone.token });
    const own = listed.body.find((c: any) => c.token === phone.token);
    expect(own).toMatchObject({ id: phone.id, name: 'logout phone' });
    const del = await s.api('DELETE', `/client/${own.id}`, { token: phone.token });
    expect(del.status).toBe(200);
    expect(await stream.closed).toBe(1000);
    expect((await s.api('GET', '/current/user', { token: phone.token })).status).toBe(401);
  });

  it('pages /message with limit and since until `next` is absent, as MessageRequester/MissedMessageUtil', async () => {
    const erin = await s.createUser('erin');
    const phone = await s.createClient('phone', erin.auth);
    const apps = [await s.createApp({ name: 'a' }, erin.auth), await s.createApp({ name: 'b' }, erin.auth)];
    const ids: number[] = [];
    for (let i = 0; i < 23; i++) {
      const r = await s.api('POST', '/message', { token: apps[i % 2].token, json: { message: 'n' + i } });
      ids.push(r.body.id);
    }
    // The app's first request passes since=0 explicitly.
    let since = 0;
    const seen: number[] = [];
    const sizes: number[] = [];
    for (;;) {
      const page = await s.api('GET', `/message?limit=10&since=${since}`, { token: phone.token });
      expect(page.status).toBe(200);
      expect(Object.keys(page.body)).toEqual(['paging', 'messages']);
      for (const m of page.body.messages) {
        expect(Object.keys(m)).toEqual(['id', 'appid', 'message', 'title', 'priority', 'date']);
        expect(m.date).toMatch(RFC3339);
      }
      seen.push(...page.body.messages.map((m: any) => m.id));
      sizes.push(page.body.paging.size);
      expect(page.body.paging.limit).toBe(10);
      if (!('next' in page.body.paging)) {
        expect(page.body.paging.since).toBe(0);
        break;
      }
      expect(page.body.paging.since).toBe(seen[seen.length - 1]);
      since = page.body.paging.since;
    }
    expect(sizes).toEqual([10, 10, 3]);
    expect(seen).toEqual([...ids].reverse());

    // One application's view (the drawer), then a swipe-delete and a reload.
    const appPage = await s.api('GET', `/application/${apps[1].id}/message?limit=100&since=0`, { token: phone.token });
    expect(appPage.body.messages.map((m: any) => m.id)).toEqual(ids.filter((_, i) => i % 2 === 1).reverse());
    const del = await s.api('DELETE', `/message/${ids[22]}`, { token: phone.token });
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    const again = await s.api('DELETE', `/message/${ids[22]}`, { token: phone.token });
    expect(again.status).toBe(404);
    expect(again.body.errorDescription).toBe('message does not exist');
    const reload = await s.api('GET', '/message?limit=100', { token: phone.token });
    expect(reload.body.messages[0].id).toBe(ids[21]);
  });

  it('gets /stream?token= frames byte-identical to Gotify (a GET /message item plus a newline), and answers OkHttp pings', async () => {
    const phone = await s.createClient('stream phone', dana.auth);
    const app = await s.createApp({ name: 'ci', defaultPriority: 8 }, dana.auth);
    // OkHttp sends no Origin header and pings the server itself (pingInterval 1 min).
    const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/stream?token=${phone.token}`);
    const frame = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const pong = new Promise<string>((resolve) => ws.once('pong', (data) => resolve(String(data))));
    ws.ping('okhttp');
    expect(await pong).toBe('okhttp');

    const extras = { 'client::display': { contentType: 'text/markdown' }, 'android::action': { onReceive: { intentUrl: 'https://x.example' } } };
    const sent = await s.api('POST', '/message', { token: app.token, json: { message: 'deploy ok', extras } });
    const raw = await frame;
    const listed = await s.api('GET', '/message?limit=1', { token: phone.token });
    // Gorilla's WriteJSON (json.Encoder) ends every Gotify frame with a newline.
    expect(raw).toBe(JSON.stringify(listed.body.messages[0]) + '\n');
    expect(JSON.parse(raw)).toEqual({ ...sent.body, title: 'ci', priority: 8, extras });
    ws.close();
  });
});

describe('python-gotify (d-k-bo/python-gotify) and Gotify update semantics', () => {
  it('PUT /application with only a name resets description and defaultPriority, keeps token, image and sortKey', async () => {
    const app = await s.createApp({ name: 'old', description: 'desc', defaultPriority: 6 }, dana.auth);
    // update_application(id, name) drops None values, so description is not sent.
    const r = await s.api('PUT', `/application/${app.id}`, { token: (await s.createClient('py', dana.auth)).token, json: { name: 'new' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ...app, name: 'new', description: '', defaultPriority: 0 });
  });

  it('POST /user/:id without `admin` demotes (Gotify binds a missing bool as false) and keeps the password', async () => {
    const second = await s.createUser('root2', 'pw2', true);
    const r = await s.api('POST', `/user/${second.id}`, { auth: s.adminAuth, json: { name: 'root2' } });
    expect(r.body).toEqual({ id: second.id, name: 'root2', admin: false });
    expect((await s.api('GET', '/current/user', { auth: basic('root2', 'pw2') })).body.admin).toBe(false);
  });

  it('takes the token from ?token= first and never falls back to the header (Gotify order)', async () => {
    const c = await s.createClient('order', dana.auth);
    expect((await s.api('GET', `/current/user?token=${c.token}`, { token: 'Cwrongwrongwron' })).status).toBe(200);
    expect((await s.api('GET', '/current/user?token=Cwrongwrongwron', { token: c.token })).status).toBe(401);
    expect((await s.api('GET', '/current/user', { token: 'Cwrongwrongwron', auth: 'Bearer ' + c.token })).status).toBe(401);
    const app = await s.createApp({ name: 'order app' }, dana.auth);
    expect((await s.api('POST', '/message?token=Awrongwrongwron', { token: app.token, json: { message: 'x' } })).status).toBe(401);
  });
});
