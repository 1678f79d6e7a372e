import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGo } from '../helpers/go.js';
import { hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';
import type { TestUser } from '../helpers/server.js';

/**
 * Go plugins in the real server: plugins/echo-go (a Gotify plugin, unchanged, built by
 * `npm run build` with flow-plugin build-go) and test/fixtures/go-plugins/probe (Flow's Go API
 * with its additions, and handlers that panic, block and print), both served by real gin
 * engines inside their plugin processes.
 */

const ECHO_GO = fileURLToPath(new URL('../../plugins/echo-go/dist/flow-echo-go', import.meta.url));
const PROBE_SRC = fileURLToPath(new URL('../fixtures/go-plugins/probe', import.meta.url));
const WEBHOOK_DEADLINE_MS = 3000;

describe('Go plugins in the server', () => {
  let s: PluginServer;
  let buildDir: string;
  let bob: TestUser;
  let echo: any;
  let probe: any;
  let bobProbe: any;
  const yaml = { 'content-type': 'application/x-yaml' };

  beforeAll(async () => {
    buildDir = await mkdtemp(path.join(tmpdir(), 'flow-go-e2e-'));
    const probeExe = await buildGo(PROBE_SRC, path.join(buildDir, 'go-probe'));
    const dir = await pluginsDir();
    await symlink(ECHO_GO, path.join(dir, 'echo-go'));
    await symlink(probeExe, path.join(dir, 'go-probe'));
    s = await startPluginServer(dir, { 'plugins.webhooktimeoutms': WEBHOOK_DEADLINE_MS });
    bob = await s.createUser('bob');
    const list = await s.plugins();
    echo = list.find((p) => p.modulePath === 'github.com/flow/plugins/echo-go');
    probe = list.find((p) => p.modulePath === 'github.com/flow/test/go-probe');
    bobProbe = (await s.plugins(bob.auth)).find((p) => p.modulePath === 'github.com/flow/test/go-probe');
    for (const [conf, auth] of [[probe, s.adminAuth], [bobProbe, bob.auth]]) {
      expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth })).status).toBe(200);
    }
  }, 180_000);
  afterAll(async () => {
    await s?.close();
    await rm(buildDir, { recursive: true, force: true });
  });

  const pid = async (name: string): Promise<number> => (await s.processes())[name].pid;

  it('lists them with Gotify\'s capability list, in Gotify\'s order', async () => {
    expect(echo).toMatchObject({ name: 'echo (Go)', enabled: false, author: 'Flow', license: 'MIT', capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker'] });
    // Flow's additions: the key-value store is storage, the subscriber is Flow's own capability.
    expect((await s.plugins()).find((p) => p.id === probe.id)).toMatchObject({ name: 'go probe', enabled: true, capabilities: ['configurer', 'storager', 'webhooker', 'subscriber'] });
  });

  it('enable and disable: the webhook answers "plugin is disabled" until enabled', async () => {
    const disabled = await fetch(hookUrl(s, echo, 'echo'));
    expect(disabled.status).toBe(400);
    expect(await disabled.json()).toMatchObject({ errorDescription: 'plugin is disabled' });
    expect((await s.api('POST', `/plugin/${echo.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${echo.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await fetch(hookUrl(s, echo, 'echo'))).status).toBe(400);
    expect((await s.api('POST', `/plugin/${echo.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await s.plugins()).find((p) => p.id === echo.id).enabled).toBe(true);
  });

  it('config: YAML decoded into the plugin\'s yaml-tagged struct, validated, persisted as written', async () => {
    expect((await s.api('GET', `/plugin/${echo.id}/config`, { auth: s.adminAuth })).text).toBe('magic_string: hello world\n');
    const empty = await s.api('POST', `/plugin/${echo.id}/config`, { auth: s.adminAuth, headers: yaml, body: 'magic_string: "  "\n' });
    expect(empty.status).toBe(400);
    expect(empty.body.errorDescription).toBe('magic_string must not be empty');
    // A value that does not decode into the string field: yaml.v3's own message, nothing changed.
    const undecodable = await s.api('POST', `/plugin/${echo.id}/config`, { auth: s.adminAuth, headers: yaml, body: 'magic_string: [1, 2]\n' });
    expect(undecodable.status).toBe(400);
    expect(undecodable.body.errorDescription).toBe('yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into string');
    expect((await s.api('GET', `/plugin/${echo.id}/config`, { auth: s.adminAuth })).text).toBe('magic_string: hello world\n');
    expect(await (await fetch(hookUrl(s, echo, 'echo'))).text()).toBe('hello world');

    const text = '# what the echo route answers\r\nmagic_string: open sesame   # comments and CRLF are kept\r\n';
    expect((await s.api('POST', `/plugin/${echo.id}/config`, { auth: s.adminAuth, headers: yaml, body: text })).status).toBe(200);
    expect((await s.api('GET', `/plugin/${echo.id}/config`, { auth: s.adminAuth })).text).toBe(text);
    expect(await (await fetch(hookUrl(s, echo, 'echo'))).text()).toBe('open sesame');
  });

  it('config that does not decode into the probe\'s int field: InvalidConfig with the decoder\'s message, the old config stays', async () => {
    const bad = await s.api('POST', `/plugin/${probe.id}/config`, { auth: s.adminAuth, headers: yaml, body: 'limit: lots\ngreeting: changed\n' });
    expect(bad.status).toBe(400);
    expect(bad.body.errorDescription).toBe('yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `lots` into int');
    expect((await s.api('GET', `/plugin/${probe.id}/config`, { auth: s.adminAuth })).text).toBe('limit: 3\ngreeting: hi\n');
    expect(await (await fetch(hookUrl(s, probe, 'whoami'))).json()).toMatchObject({ limit: 3, greeting: 'hi' });
    const refused = await s.api('POST', `/plugin/${probe.id}/config`, { auth: s.adminAuth, headers: yaml, body: 'limit: -1\n' });
    expect(refused.body.errorDescription).toBe('limit must not be negative');
  });

  it('webhook through gin: the message goes out as the user\'s internal application, live and stored', async () => {
    const client = await s.createClient('go phone');
    const stream = await s.openStream(client.token);
    const res = await fetch(hookUrl(s, echo, 'echo'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const live = await stream.next();
    stream.close();
    expect(live).toMatchObject({ title: 'Hello received', message: expect.stringMatching(/^echo server received a hello message \d+ times$/), priority: 2, extras: { 'plugin::name': 'echo' } });
    const apps = (await s.api('GET', '/application', { auth: s.adminAuth })).body as any[];
    const internal = apps.find((app) => app.id === live.appid);
    expect(internal).toMatchObject({ name: 'echo (Go)', internal: true });
    const stored = (await s.api('GET', `/application/${internal.id}/message`, { auth: s.adminAuth })).body.messages;
    expect(stored[0]).toMatchObject({ id: live.id, message: live.message });
  });

  it('webhook through gin: JSON in and out with status codes, Gotify\'s error body, binary bodies byte for byte', async () => {
    const created = await fetch(hookUrl(s, echo, 'message'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'sent as JSON', title: 'json', priority: 6 }) });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await created.json()).toEqual({ sent: { message: 'sent as JSON', title: 'json', priority: 6 }, user: 'admin', magic: 'open sesame' });
    const latest = (await s.api('GET', '/message?limit=1', { auth: s.adminAuth })).body.messages[0];
    expect(latest).toMatchObject({ message: 'sent as JSON', title: 'json', priority: 6 });

    const invalid = await fetch(hookUrl(s, echo, 'message'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title": "no message"}' });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(await invalid.text())).toMatchObject({ error: 'Bad Request', errorCode: 400, errorDescription: expect.stringContaining("Field validation for 'Message' failed on the 'required' tag") });

    const bytes = randomBytes(64 * 1024);
    const raw = await fetch(hookUrl(s, echo, 'raw'), { method: 'POST', headers: { 'content-type': 'application/x-flow-test' }, body: bytes });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('application/x-flow-test');
    expect(raw.headers.get('x-body-bytes')).toBe(String(bytes.length));
    expect(Buffer.from(await raw.arrayBuffer()).equals(bytes)).toBe(true);

    const unknown = await fetch(hookUrl(s, echo, 'nope'));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'Not Found', errorCode: 404, errorDescription: 'page not found' });
    expect((await fetch(hookUrl(s, echo, 'echo'), { method: 'DELETE' })).status).toBe(404);

    expect((await fetch(hookUrl(s, probe, 'status/418'))).status).toBe(418);
    expect(await (await fetch(hookUrl(s, probe, 'status/201'))).text()).toBe('status 201');
    const who = await fetch(`${hookUrl(s, probe, 'whoami')}?q=a%20b&q=2`, { headers: { 'X-Test': 'header value' } });
    expect(await who.json()).toEqual({ user: 'admin', greeting: 'hi', limit: 3, clientIP: '127.0.0.1', q: 'a b', header: 'header value' });
  });

  it('display: the absolute webhook URL, behind a proxy too', async () => {
    const url = hookUrl(s, echo, 'echo');
    const display = (await s.api('GET', `/plugin/${echo.id}/display`, { auth: s.adminAuth })).body as string;
    expect(display).toMatch(new RegExp(`^Echo server running at: \\[${url.replace(/[.?]/g, '\\$&')}\\]\\(`));
    expect(display).toMatch(/Called [1-9]\d* times so far\.$/);
    const proxied = await s.api('GET', `/plugin/${echo.id}/display`, { auth: s.adminAuth, headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'flow.example.com' } });
    expect(proxied.body).toContain(`[${hookUrl({ url: 'https://flow.example.com' }, echo, 'echo')}]`);
  });

  it('Flow\'s additions: key-value store and subscriber', async () => {
    expect((await fetch(hookUrl(s, probe, 'kv/colour'), { method: 'PUT', body: 'blue' })).status).toBe(204);
    expect(await (await fetch(hookUrl(s, probe, 'kv/colour'))).text()).toBe('blue');
    const missing = await fetch(hookUrl(s, bobProbe, 'kv/colour'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ errorDescription: 'no such key' });

    const app = await s.createApp({ name: 'elsewhere' });
    expect((await s.api('POST', '/message', { token: app.token, json: { message: 'seen by the Go subscriber' } })).status).toBe(200);
    await waitFor(async () => ((await (await fetch(hookUrl(s, probe, 'seen'))).json()) as string[]).includes('seen by the Go subscriber'), 'the subscriber to see the message');
  });

  it('a panicking handler answers 500; the process keeps serving every user', async () => {
    const before = await pid('go-probe');
    const panicked = await fetch(hookUrl(s, probe, 'panic'));
    expect(panicked.status).toBe(500);
    expect(await panicked.json()).toMatchObject({ errorCode: 500, errorDescription: expect.stringContaining('panic') });
    expect((await fetch(hookUrl(s, bobProbe, 'whoami'))).status).toBe(200);
    expect((await fetch(hookUrl(s, probe, 'whoami'))).status).toBe(200);
    expect(await pid('go-probe')).toBe(before);
  });

  it('a handler that blocks forever gets the deadline (504) while another user\'s calls are answered', async () => {
    const before = await pid('go-probe');
    const blocked = fetch(hookUrl(s, probe, 'block'));
    const others = await Promise.all([1, 2, 3].map(() => fetch(hookUrl(s, bobProbe, 'whoami'))));
    expect(others.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await s.api('GET', `/plugin/${probe.id}/config`, { auth: s.adminAuth })).status).toBe(200);
    expect((await blocked).status).toBe(504);
    expect((await fetch(hookUrl(s, probe, 'whoami'))).status).toBe(200);
    expect(await pid('go-probe')).toBe(before);
  });

  it('fmt.Println from Enable and from a handler reaches the log, not the protocol', async () => {
    const processes = await s.processes();
    expect(processes['go-probe']).toMatchObject({ status: 'running', restarts: 0 });
    expect(processes['go-probe'].stderr.join('\n')).toContain('probe: Enable printed this with fmt.Println');
    expect(processes['go-probe'].stderr.join('\n')).toContain('probe: a handler printed this with fmt.Println');
    expect(processes['echo-go']).toMatchObject({ status: 'running', restarts: 0 });
  });

  it('storage and config survive a server restart', async () => {
    const count = async () => Number(/(\d+) times/.exec(((await s.api('GET', '/message?limit=50', { auth: s.adminAuth })).body.messages as any[]).find((m) => m.title === 'Hello received').message)![1]);
    const before = await count();
    await s.restart();
    const res = await fetch(hookUrl(s, echo, 'echo'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('open sesame');
    expect(await count()).toBe(before + 1);
  });
});
