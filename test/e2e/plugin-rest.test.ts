import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';
import type { TestUser } from '../helpers/server.js';

// Gotify's plugin REST behaviour (reference §2, §7 cases 1-16, 18, 27, 30-31) against the
// raw-protocol mock fixture (test/fixtures/plugins/mock), plus Flow's additions.
describe('plugin REST', () => {
  let s: PluginServer;
  let bob: TestUser;
  let mock: any;
  let plain: any;

  const yamlPost = (id: number, body: string, auth = s.adminAuth) => s.api('POST', `/plugin/${id}/config`, { auth, body, headers: { 'Content-Type': 'application/x-yaml' } });
  const hook = (conf: any, sub: string, init: RequestInit = {}) => fetch(hookUrl(s, conf, sub), init);
  const call = async (conf: any, method: string, params: unknown) => (await (await hook(conf, 'call', { method: 'POST', body: JSON.stringify({ method, params }) })).json()) as any;

  beforeAll(async () => {
    const dir = await pluginsDir(['mock', 'mock-plain']);
    s = await startPluginServer(dir, { 'limits.bodybytes': 64 * 1024, 'plugins.storagequotabytes': 1024 });
    bob = await s.createUser('bob');
    const list = await s.plugins();
    mock = list.find((p) => p.modulePath === 'github.com/flow/test/mock');
    plain = list.find((p) => p.modulePath === 'github.com/flow/test/mock-plain');
  });
  afterAll(() => s?.close());

  describe('GET /plugin', () => {
    it('lists the caller\'s plugins, disabled by default, with Flow\'s extra fields', async () => {
      expect(mock).toMatchObject({
        name: 'mock plugin',
        modulePath: 'github.com/flow/test/mock',
        enabled: false,
        author: 'flow',
        license: 'MIT',
        version: '1.2.3',
        description: 'the test mock',
        status: 'running',
        capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker', 'subscriber'],
      });
      expect(mock.token).toMatch(/^P[A-Za-z0-9_-]{22}$/);
      expect(Number.isNaN(Date.parse(mock.createdAt))).toBe(false);
      expect(mock).not.toHaveProperty('website');
    });

    it('gives each user their own confs and always sends capabilities as an array', async () => {
      const bobs = await s.plugins(bob.auth);
      expect(bobs.map((p) => p.modulePath).sort()).toEqual(['github.com/flow/test/mock', 'github.com/flow/test/mock-plain']);
      expect(bobs.find((p) => p.modulePath === mock.modulePath).id).not.toBe(mock.id);
      expect(plain.capabilities).toEqual(['webhooker']);
    });

    it('needs client credentials', async () => {
      expect((await s.api('GET', '/plugin')).status).toBe(401);
    });
  });

  describe('enable and disable', () => {
    it('answers 200 with an empty body, then 400 when already in that state', async () => {
      const on = await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth });
      expect(on.status).toBe(200);
      expect(on.text).toBe('');
      expect(on.headers.get('content-type')).toContain('application/json');
      const again = await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth });
      expect(again.status).toBe(400);
      expect(again.body.errorDescription).toBe('config is already enabled/disabled');
      expect((await s.plugins()).find((p) => p.id === mock.id).enabled).toBe(true);
      expect((await s.api('POST', `/plugin/${mock.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
      expect((await s.api('POST', `/plugin/${mock.id}/disable`, { auth: s.adminAuth })).status).toBe(400);
      expect((await s.plugins()).find((p) => p.id === mock.id).enabled).toBe(false);
    });

    it('answers 500 with the plugin\'s text when enable fails, and stays disabled', async () => {
      expect((await yamlPost(mock.id, 'failenable: true\n')).status).toBe(200);
      const r = await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth });
      expect(r.status).toBe(500);
      expect(r.body.errorDescription).toBe('enable failed on purpose');
      expect((await s.plugins()).find((p) => p.id === mock.id).enabled).toBe(false);
      expect((await yamlPost(mock.id, 'testkey: default\n')).status).toBe(200);
    });

    it('answers 500 with the plugin\'s text when disable fails, and stays enabled', async () => {
      expect((await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
      expect((await yamlPost(mock.id, 'faildisable: true\n')).status).toBe(200);
      const r = await s.api('POST', `/plugin/${mock.id}/disable`, { auth: s.adminAuth });
      expect(r.status).toBe(500);
      expect(r.body.errorDescription).toBe('disable failed on purpose');
      expect((await s.plugins()).find((p) => p.id === mock.id).enabled).toBe(true);
      expect((await yamlPost(mock.id, 'testkey: default\n')).status).toBe(200);
      expect((await s.api('POST', `/plugin/${mock.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
    });

    it('answers 404 for another user\'s plugin and for unknown ids, 400 for a non-numeric id', async () => {
      for (const action of ['enable', 'disable']) {
        const r = await s.api('POST', `/plugin/${mock.id}/${action}`, { auth: bob.auth });
        expect(r.status).toBe(404);
        expect(r.body.errorDescription).toBe('unknown plugin');
        expect((await s.api('POST', `/plugin/99/${action}`, { auth: s.adminAuth })).status).toBe(404);
      }
      expect((await s.api('POST', '/plugin/abc/enable', { auth: s.adminAuth })).body.errorDescription).toBe('invalid id');
      expect((await s.plugins()).find((p) => p.id === mock.id).enabled).toBe(false);
    });
  });

  describe('display', () => {
    it('returns the markdown as a JSON string, built from the request location', async () => {
      const r = await s.api('GET', `/plugin/${mock.id}/display`, { auth: s.adminAuth });
      expect(r.status).toBe(200);
      expect(r.body).toBe(`mock display for admin: ${s.url}/plugin/${mock.id}/custom/${mock.token}/echo`);
    });

    it('honours X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix', async () => {
      const r = await s.api('GET', `/plugin/${mock.id}/display`, {
        auth: s.adminAuth,
        headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'push.example.org', 'X-Forwarded-Prefix': '/flow/' },
      });
      expect(r.body).toBe(`mock display for admin: https://push.example.org/flow/plugin/${mock.id}/custom/${mock.token}/echo`);
    });

    it('returns "" for a plugin that is not a displayer, 404 for others\' and unknown ids', async () => {
      expect((await s.api('GET', `/plugin/${plain.id}/display`, { auth: s.adminAuth })).body).toBe('');
      expect((await s.api('GET', `/plugin/${mock.id}/display`, { auth: bob.auth })).status).toBe(404);
      expect((await s.api('GET', '/plugin/99/display', { auth: s.adminAuth })).status).toBe(404);
    });
  });

  describe('config', () => {
    it('returns the default YAML as application/x-yaml', async () => {
      const r = await s.api('GET', `/plugin/${mock.id}/config`, { auth: s.adminAuth });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('application/x-yaml');
      expect(r.text).toBe('testkey: default\n');
    });

    it('stores valid YAML byte for byte and applies it to the live instance', async () => {
      const text = '# my settings\ntestkey: test__new__config   # kept as written\n';
      expect((await yamlPost(mock.id, text)).status).toBe(200);
      expect((await s.api('GET', `/plugin/${mock.id}/config`, { auth: s.adminAuth })).text).toBe(text);
      await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth });
      const live = (await (await hook(mock, 'config')).json()) as any;
      expect(live.config.testkey).toBe('test__new__config');
      await s.api('POST', `/plugin/${mock.id}/disable`, { auth: s.adminAuth });
    });

    it('answers 400 with the plugin\'s reason for a rejected config, and changes nothing', async () => {
      const before = (await s.api('GET', `/plugin/${mock.id}/config`, { auth: s.adminAuth })).text;
      const r = await yamlPost(mock.id, 'isnotvalid: true\n');
      expect(r.status).toBe(400);
      expect(r.body.errorDescription).toBe('isnotvalid must be false');
      expect((await s.api('GET', `/plugin/${mock.id}/config`, { auth: s.adminAuth })).text).toBe(before);
    });

    it('answers 400 for malformed YAML without asking the plugin, and changes nothing', async () => {
      const before = (await s.api('GET', `/plugin/${mock.id}/config`, { auth: s.adminAuth })).text;
      const r = await yamlPost(mock.id, '--- "rg e""');
      expect(r.status).toBe(400);
      expect(r.body.errorDescription).toMatch(/^invalid YAML/);
      expect((await s.api('GET', `/plugin/${mock.id}/config`, { auth: s.adminAuth })).text).toBe(before);
    });

    it('answers 400 for a plugin that is not a configurer and 404 for others\' or unknown ids', async () => {
      const get = await s.api('GET', `/plugin/${plain.id}/config`, { auth: s.adminAuth });
      expect(get.status).toBe(400);
      expect(get.body.errorDescription).toBe('plugin does not support configurer');
      expect((await yamlPost(plain.id, 'a: 1')).status).toBe(400);
      expect((await s.api('GET', `/plugin/${mock.id}/config`, { auth: bob.auth })).status).toBe(404);
      expect((await yamlPost(mock.id, 'testkey: bob', bob.auth)).status).toBe(404);
      expect((await s.api('GET', '/plugin/99/config', { auth: s.adminAuth })).status).toBe(404);
    });
  });

  describe('webhooks', () => {
    it('answer 400 "plugin is disabled" while disabled and reach the plugin once enabled', async () => {
      const off = await hook(mock, 'echo');
      expect(off.status).toBe(400);
      expect(((await off.json()) as any).errorDescription).toBe('plugin is disabled');
      await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth });
      const on = await hook(mock, 'echo?a=1&b=2', { method: 'PUT', body: 'hello', headers: { 'X-Custom': 'yes', 'X-Gotify-Key': 'secret-client-token' } });
      expect(on.status).toBe(200);
      const seen = (await on.json()) as any;
      expect(seen).toMatchObject({ method: 'PUT', path: '/echo', query: 'a=1&b=2', enabled: true, user: { name: 'admin', admin: true } });
      expect(Buffer.from(seen.body, 'base64').toString()).toBe('hello');
      expect(seen.headers['x-custom']).toBe('yes');
      expect(seen.headers).not.toHaveProperty('x-gotify-key');
      expect(on.headers.get('x-mock')).toBe('a, b');
    });

    it('relay bodies byte for byte, any status, and add no JSON content type', async () => {
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const r = await hook(mock, 'binary', { method: 'POST', body: bytes });
      expect(r.status).toBe(201);
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
      expect(Buffer.from(await r.arrayBuffer()).equals(bytes)).toBe(true);
      const teapot = await hook(mock, 'status?code=418');
      expect(teapot.status).toBe(418);
      expect(await teapot.text()).toBe('status 418');
    });

    it('answer 404 for an unknown token, a wrong id or a plugin without webhooks, 413 over the body limit', async () => {
      expect((await fetch(`${s.url}/plugin/${mock.id}/custom/Pnope/echo`)).status).toBe(404);
      expect((await fetch(`${s.url}/plugin/${mock.id + 1000}/custom/${mock.token}/echo`)).status).toBe(404);
      const big = await hook(mock, 'echo', { method: 'POST', body: Buffer.alloc(65 * 1024) });
      expect(big.status).toBe(413);
    });
  });

  describe('messenger', () => {
    it('stores and streams a message sent by the plugin, as its internal application', async () => {
      const client = await s.createClient('watcher');
      const stream = await s.openStream(client.token);
      const r = await hook(mock, 'send?message=test&title=test%20message&priority=2', { method: 'POST', body: JSON.stringify({ 'test::string': 'test' }) });
      expect(r.status).toBe(200);
      const { id } = (await r.json()) as any;
      const pushed = await stream.next();
      expect(pushed).toMatchObject({ id, title: 'test message', message: 'test', priority: 2, extras: { 'test::string': 'test' } });
      const apps = (await s.api('GET', '/application', { auth: s.adminAuth })).body as any[];
      const internal = apps.find((a) => a.id === pushed.appid);
      expect(internal).toMatchObject({ name: 'mock plugin', internal: true, description: 'auto generated application for github.com/flow/test/mock' });
      const stored = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages;
      expect(stored.find((m: any) => m.id === id)).toMatchObject({ appid: internal.id, title: 'test message' });
      stream.close();
    });

    it('defaults the title to the application name, and refuses to delete the internal application', async () => {
      const { id } = (await (await hook(mock, 'send?message=untitled')).json()) as any;
      const stored = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages.find((m: any) => m.id === id);
      expect(stored.title).toBe('mock plugin');
      const del = await s.api('DELETE', `/application/${stored.appid}`, { auth: s.adminAuth });
      expect(del.status).toBe(400);
      expect(del.body.errorDescription).toBe('cannot delete internal application');
    });
  });

  describe('storager', () => {
    it('persists the blob and key-value entries', async () => {
      const data = Buffer.from('test').toString('base64');
      expect(await call(mock, 'storage/save', { instanceId: String(mock.id), data })).toEqual({ result: {} });
      expect(await call(mock, 'storage/load', { instanceId: String(mock.id) })).toEqual({ result: { data } });
      expect(await call(mock, 'kv/set', { instanceId: String(mock.id), key: 'b', value: '2' })).toEqual({ result: {} });
      expect(await call(mock, 'kv/set', { instanceId: String(mock.id), key: 'a', value: '1' })).toEqual({ result: {} });
      expect(await call(mock, 'kv/get', { instanceId: String(mock.id), key: 'a' })).toEqual({ result: { value: '1' } });
      expect(await call(mock, 'kv/get', { instanceId: String(mock.id), key: 'zz' })).toEqual({ result: { value: null } });
      expect(await call(mock, 'kv/list', { instanceId: String(mock.id) })).toEqual({ result: { keys: ['a', 'b'] } });
      expect(await call(mock, 'kv/delete', { instanceId: String(mock.id), key: 'b' })).toEqual({ result: { deleted: true } });
      expect(await call(mock, 'kv/delete', { instanceId: String(mock.id), key: 'b' })).toEqual({ result: { deleted: false } });
    });

    it('refuses writes over the quota with QuotaExceeded and keeps the old data', async () => {
      const old = Buffer.from('test').toString('base64');
      const r = await call(mock, 'storage/save', { instanceId: String(mock.id), data: Buffer.alloc(2000).toString('base64') });
      expect(r.error).toMatchObject({ code: 1008, data: { limitBytes: 1024 } });
      expect(await call(mock, 'storage/load', { instanceId: String(mock.id) })).toEqual({ result: { data: old } });
      const kv = await call(mock, 'kv/set', { instanceId: String(mock.id), key: 'big', value: 'x'.repeat(1100) });
      expect(kv.error.code).toBe(1008);
      expect(await call(mock, 'kv/get', { instanceId: String(mock.id), key: 'big' })).toEqual({ result: { value: null } });
    });
  });

  describe('plugin → host calls', () => {
    it('refuse another plugin\'s instance id, invalid params, unknown methods and undeclared capabilities', async () => {
      // plain's instance lives in another plugin process: the mock cannot reach its data.
      expect((await call(mock, 'storage/load', { instanceId: String(plain.id) })).error.code).toBe(1002);
      expect((await call(mock, 'storage/load', { instanceId: '99999' })).error.code).toBe(1002);
      const invalid = await call(mock, 'kv/set', { instanceId: String(mock.id), key: 'k' });
      expect(invalid.error.code).toBe(-32602);
      expect(invalid.error.data.issues[0].path).toEqual(['value']);
      expect((await call(mock, 'nope/nothing', {})).error.code).toBe(-32601);
      await s.api('POST', `/plugin/${plain.id}/enable`, { auth: s.adminAuth });
      expect((await call(plain, 'storage/load', { instanceId: String(plain.id) })).error.code).toBe(1003);
      expect((await call(plain, 'message/send', { instanceId: String(plain.id), message: 'x' })).error.code).toBe(1003);
    });
  });

  describe('subscriber', () => {
    it('receives the user\'s new messages from other applications, never its own', async () => {
      const app = await s.createApp({ name: 'sender' });
      const posted = await s.api('POST', '/message', { token: app.token, json: { message: 'for subscribers', title: 'hi' } });
      expect(posted.status).toBe(200);
      const own = (await (await hook(mock, 'send?message=from-the-plugin')).json()) as any;
      const bobApp = await s.createApp({ name: 'bobs' }, bob.auth);
      await s.api('POST', '/message', { token: bobApp.token, json: { message: 'not for admin' } });
      // A marker message after the others: once it arrived, everything before it has been offered.
      const marker = await s.api('POST', '/message', { token: app.token, json: { message: 'marker' } });
      const received = await waitFor(async () => {
        const list = (await (await hook(mock, 'received')).json()) as any[];
        return list.some((m) => m.id === marker.body.id) && list;
      }, 'the marker message');
      const ids = received.map((m: any) => m.id);
      expect(ids).toContain(posted.body.id);
      expect(ids).not.toContain(own.id);
      expect(received.map((m: any) => m.message)).not.toContain('not for admin');
      expect(received.find((m: any) => m.id === posted.body.id)).toMatchObject({ appid: app.id, title: 'hi', message: 'for subscribers' });
    });
  });

  describe('users', () => {
    it('gives a new user instances at once and removes them with the user (then 404)', async () => {
      const carol = await s.createUser('carol');
      const conf = (await s.plugins(carol.auth)).find((p) => p.modulePath === mock.modulePath);
      expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: carol.auth })).status).toBe(200);
      const echo = (await (await hook(conf, 'echo')).json()) as any;
      expect(echo.user).toEqual({ id: carol.id, name: 'carol', admin: false });
      const before = (await s.processes()).mock.instances;
      expect((await s.api('DELETE', `/user/${carol.id}`, { auth: s.adminAuth })).status).toBe(200);
      expect((await hook(conf, 'echo')).status).toBe(404);
      expect((await s.processes()).mock.instances).toBe(before - 1);
    });
  });

  describe('secrets', () => {
    it('masks the values of the plugin\'s secret config keys in what it writes to stderr', async () => {
      expect((await yamlPost(mock.id, 'secret: hunter2-hunter2\n')).status).toBe(200);
      const lines = await waitFor(async () => {
        const stderr = (await s.processes()).mock.stderr as string[];
        return stderr.some((l) => l.startsWith('configured with secret')) && stderr;
      }, 'the stderr line');
      expect(lines.join('\n')).toContain('configured with secret [masked]');
      expect(lines.join('\n')).not.toContain('hunter2-hunter2');
    });
  });
});
