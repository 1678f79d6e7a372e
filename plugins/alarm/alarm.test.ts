import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createTestHost, RpcError, type TestHost } from '@flow/plugin-kit/testing';
import { ErrorCodes } from '@flow/plugin-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/wait.js';

const ALARM = fileURLToPath(new URL('./alarm.py', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const FAST = { FLOW_ALARM_MIN_INTERVAL: '10ms' };

/** A loopback HTTP target whose status the test sets; counts requests. */
let status = 200;
let hits = 0;
/** Checks of a witness instance (its URL ends in /witness), counted apart from `hits`. */
let witnessHits = 0;
let slowMs = 0;
let target: Server;
let targetUrl: string;
beforeAll(async () => {
  target = createHttpServer((req, res) => {
    if (req.url === '/witness') witnessHits++;
    else hits++;
    setTimeout(() => res.writeHead(status).end(), slowMs);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/health`;
});
afterAll(async () => {
  target.closeAllConnections();
  await new Promise<void>((r) => target.close(() => r()));
});

const hosts: TestHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
  status = 200;
  slowMs = 0;
});

async function start(options: { handshake?: boolean; env?: Record<string, string> } = {}): Promise<TestHost> {
  // Requests wait up to 30 s, a bound against a hang: the protocol's 5 s (ping, display, config)
  // is less than a Python start on a machine whose cores are busy (see test/README.md "Under load").
  const host = await createTestHost({ command: ['python3', ALARM], env: { ...FAST, ...options.env }, requestTimeoutMs: 30_000, ...(options.handshake === false ? { handshake: false } : {}) });
  hosts.push(host);
  return host;
}

async function listen(port = 0): Promise<TcpServer> {
  const server = createTcpServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

describe('alarm plugin: its own unit tests', () => {
  it('passes the Python test suite', () => {
    const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', HERE, '-p', 'test_*.py'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    expect(run.stderr).toMatch(/\nOK\n?$/);
    expect(run.status).toBe(0);
  });
});

describe('alarm plugin run by hand', () => {
  it('prints --info as one line of JSON and explains itself without the launch marker', () => {
    const info = spawnSync('python3', [ALARM, '--info'], { encoding: 'utf8' });
    expect(info.status).toBe(0);
    expect(info.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(info.stdout)).toMatchObject({ info: { modulePath: 'github.com/flow/plugins/alarm' }, capabilities: ['configurer', 'displayer', 'messenger', 'storager'], protocolVersions: ['1.0'] });
    const env = { ...process.env };
    delete env.FLOW_PLUGIN_PROTOCOL;
    const byHand = spawnSync('python3', [ALARM], { encoding: 'utf8', env, input: '' });
    expect(byHand.status).toBe(1);
    expect(byHand.stdout).toBe('');
    expect(byHand.stderr).toContain("copy or link this file into the server's plugins");
  });
});

describe('alarm plugin through the kit test host (python3 child process)', () => {
  it('declares its capabilities and accepts its default config', async () => {
    const host = await start();
    expect(host.initializeResult).toMatchObject({ protocolVersion: '1.0', info: { modulePath: 'github.com/flow/plugins/alarm' }, capabilities: ['configurer', 'displayer', 'messenger', 'storager'] });
    const inst = await host.createInstance();
    const yaml = await inst.defaultConfig();
    expect(yaml).toContain('checks: []');
    await inst.setConfig(yaml);
    expect(await inst.display()).toContain('No checks configured yet.');
    expect(host.violations).toEqual([]);
  });

  it('rejects invalid config with a short reason and keeps the previous one', async () => {
    const host = await start();
    const inst = await host.createInstance();
    await inst.setConfig(`checks:\n  - name: web\n    url: ${targetUrl}\n`);
    for (const [yaml, reason] of [
      ['checks:\n  - url: file:///etc/passwd\n', 'checks[0].url: only http and https URLs are allowed'],
      ['checks:\n  - tcp: example.com\n', 'checks[0].tcp: must be host:port (IPv6 as [addr]:port)'],
      ['interval: 1ms\n', 'interval: must be at least 10ms'],
      // YAML that does not parse is refused by the host before the plugin sees it (spec: the host parses first).
      ['checks:\n\t- tcp: a:1\n', expect.stringMatching(/^invalid YAML/)],
      ['checks: [\n', expect.stringMatching(/^invalid YAML/)],
      // Python's urlsplit raises here; the user must get InvalidConfig with a reason, not InternalError.
      ['checks:\n  - url: http://[::1/health\n', 'checks[0].url: not a valid URL (Invalid IPv6 URL)'],
    ] as const) {
      const err = await inst.setConfig(yaml).then(() => 'accepted', (e: unknown) => e);
      expect(err).toBeInstanceOf(RpcError);
      expect(err).toMatchObject({ code: ErrorCodes.InvalidConfig, message: reason });
    }
    expect(await inst.display()).toContain('| web |');
    expect(host.violations).toEqual([]);
  });

  it('alarms once when an HTTP check starts failing and reports the recovery once', async () => {
    const host = await start();
    const inst = await host.createInstance();
    await inst.setConfig(`interval: 50ms\ntimeout: 1s\nchecks:\n  - name: web\n    url: ${targetUrl}\n`);
    await inst.enable();
    await waitFor(async () => (await inst.display()).includes('| up |'), 'first check');
    expect(host.messages).toEqual([]);

    status = 503;
    await host.waitFor(() => host.messages.length === 1);
    expect(host.messages[0]).toMatchObject({
      title: 'DOWN: web',
      priority: 8,
      extras: { 'client::notification': { click: { url: targetUrl } }, 'client::display': { contentType: 'text/plain' } },
    });
    expect(host.messages[0]!.message).toMatch(new RegExp(`^GET ${targetUrl.replace(/[.?]/g, '\\$&')} failed: HTTP 503 Service Unavailable\\.\\nSince \\d{4}-`));
    const downAt = hits;
    await waitFor(() => hits >= downAt + 4, 'four more failing rounds');
    expect(host.messages).toHaveLength(1);
    expect(await inst.display()).toMatch(/\| web \| [^|]+ \| \*\*DOWN\*\* \| \d{4}-[^|]+ UTC \| [^|]+ \| HTTP 503 Service Unavailable \|/);

    status = 200;
    await host.waitFor(() => host.messages.length === 2);
    expect(host.messages[1]).toMatchObject({ title: 'UP: web', priority: 4 });
    expect(host.messages[1]!.message).toMatch(/passes again \(HTTP 200 OK\) after \d+(ms|s) down\./);
    const upAt = hits;
    await waitFor(() => hits >= upAt + 4, 'four more passing rounds');
    expect(host.messages).toHaveLength(2);
    expect(host.violations).toEqual([]);
  });

  it('alarms when the URL answers with a redirect that cannot be followed', async () => {
    const host = await start();
    const inst = await host.createInstance();
    await inst.setConfig(`interval: 50ms\ntimeout: 1s\nchecks:\n  - name: web\n    url: ${targetUrl}\n`);
    await inst.enable();
    await waitFor(async () => (await inst.display()).includes('| up |'), 'first check');
    // A 3xx without a Location: urllib cannot follow it, and neither can a browser.
    status = 302;
    await host.waitFor(() => host.messages.length === 1);
    expect(host.messages[0]).toMatchObject({ title: 'DOWN: web', priority: 8 });
    expect(host.messages[0]!.message).toContain('failed: HTTP 302 Found (redirect not followed).');
    expect(host.violations).toEqual([]);
  });

  it('alarms when a TCP port stops listening and recovers when it listens again', async () => {
    let listener = await listen();
    const port = (listener.address() as { port: number }).port;
    const host = await start();
    const inst = await host.createInstance();
    await inst.setConfig(`interval: 50ms\ntimeout: 500ms\nalarm_priority: 9\nrecovery_priority: 3\nchecks:\n  - name: db\n    tcp: 127.0.0.1:${port}\n`);
    await inst.enable();
    await waitFor(async () => (await inst.display()).includes('| up |'), 'first check');
    await new Promise<void>((r) => listener.close(() => r()));
    await host.waitFor(() => host.messages.length === 1);
    expect(host.messages[0]).toMatchObject({ title: 'DOWN: db', priority: 9, message: expect.stringContaining(`TCP 127.0.0.1:${port} failed: connection refused.`) });
    listener = await listen(port);
    await host.waitFor(() => host.messages.length === 2);
    expect(host.messages[1]).toMatchObject({ title: 'UP: db', priority: 3 });
    await new Promise<void>((r) => listener.close(() => r()));
  });

  it('does not repeat an alarm after a restart while the check stays down', async () => {
    status = 500;
    const config = `interval: 50ms\nchecks:\n  - name: web\n    url: ${targetUrl}\n`;
    const first = await start();
    const a = await first.createInstance({ instanceId: '3' });
    await a.setConfig(config);
    await a.enable();
    await first.waitFor(() => first.messages.length === 1);
    await waitFor(() => [...a.kv.values()].some((v) => v.includes('"down"')), 'down state stored');
    await a.disable();
    expect(await first.close()).toBe(0);

    const second = await start();
    const b = await second.createInstance({ instanceId: '3' });
    for (const [key, value] of a.kv) b.kv.set(key, value);
    await b.setConfig(config);
    await b.enable();
    const restartedAt = hits;
    await waitFor(() => hits >= restartedAt + 4, 'rounds after the restart');
    expect(second.messages).toEqual([]);
    status = 200;
    await second.waitFor(() => second.messages.length === 1);
    expect(second.messages[0]).toMatchObject({ title: 'UP: web' });
  });

  it('retries an alarm whose message the host refused, and sends it once', async () => {
    const host = await start();
    let refuse = true;
    host.handle('message/send', (params: { message: string; title?: string; priority?: number; extras?: Record<string, unknown>; instanceId: string }) => {
      if (refuse) throw new RpcError(ErrorCodes.InternalError, 'database is locked');
      host.messages.push({ id: host.messages.length + 1, ...params });
      return { id: host.messages.length };
    });
    const inst = await host.createInstance();
    status = 503;
    await inst.setConfig(`interval: 50ms\nchecks:\n  - name: web\n    url: ${targetUrl}\n`);
    await inst.enable();
    await waitFor(() => host.stderr.some((l) => l.includes('could not send the down message')), 'refused send logged');
    refuse = false;
    await host.waitFor(() => host.messages.length === 1);
    const at = hits;
    await waitFor(() => hits >= at + 3, 'more rounds');
    expect(host.messages.map((m) => m.title)).toEqual(['DOWN: web']);
  });

  it('keeps answering while checks are slow, and stops checking when disabled', async () => {
    slowMs = 400;
    const host = await start();
    const inst = await host.createInstance();
    await inst.setConfig(`interval: 50ms\ntimeout: 2s\nchecks:\n  - name: slow\n    url: ${targetUrl}\n`);
    await inst.enable();
    await waitFor(() => hits >= 1, 'a check in progress');
    // The reader is not blocked by a running round: ping and display answer at once.
    await host.request('ping', {});
    expect(await inst.display()).toContain('| slow |');
    // A second instance checking its own URL on the same interval witnesses that time passes:
    // two more of its rounds mean the disabled one would have checked (no fixed sleep).
    const witness = await host.createInstance();
    await witness.setConfig(`interval: 50ms\ntimeout: 2s\nchecks:\n  - name: witness\n    url: ${new URL('/witness', targetUrl)}\n`);
    await witness.enable();
    await inst.disable();
    const stopped = hits;
    const seen = witnessHits;
    await waitFor(() => witnessHits >= seen + 2, 'two rounds of the witness instance');
    expect(hits).toBe(stopped);
    expect(await inst.display()).toContain('Not checking: the plugin is disabled.');
  });

  it('follows the spec on bad input and lifecycle edge cases', async () => {
    const host = await start({ handshake: false });
    const early = await host.request('ping', {}).then(() => 'answered', (e: unknown) => e);
    expect(early).toMatchObject({ code: ErrorCodes.NotInitialized });
    const incompatible = await host.initialize(['2.0']).then(() => 'accepted', (e: unknown) => e);
    expect(incompatible).toMatchObject({ code: ErrorCodes.IncompatibleVersion, data: { hostVersions: ['2.0'], pluginVersions: ['1.0'] } });
    await host.initialize(['1.4']);
    expect(host.initializeResult?.protocolVersion).toBe('1.0');
    host.notify('initialized', {});
    const again = await host.initialize(['1.0']).then(() => 'accepted', (e: unknown) => e);
    expect(again).toMatchObject({ code: ErrorCodes.InvalidRequest });

    host.writeRaw('garbage that is not a frame\r\n');
    await host.request('ping', {});
    await waitFor(() => host.stderr.some((l) => l.includes('skipping bytes that are not a frame header')), 'the garbage logged');

    expect(await host.request('nope/nothing', {}).catch((e: unknown) => e)).toMatchObject({ code: ErrorCodes.MethodNotFound });
    expect(await host.request('webhook/request', { instanceId: 'x' }).catch((e: unknown) => e)).toMatchObject({ code: ErrorCodes.NotSupported });
    expect(await host.request('instance/enable', { instanceId: 'missing' }).catch((e: unknown) => e)).toMatchObject({ code: ErrorCodes.UnknownInstance });
    expect(await host.request('instance/enable', {}).catch((e: unknown) => e)).toMatchObject({ code: ErrorCodes.InvalidParams });
    const inst = await host.createInstance({ instanceId: 'dup' });
    expect(await host.request('instance/create', { instanceId: 'dup', user: { id: 1, name: 'a', admin: false }, webhookBasePath: '/x/' }).catch((e: unknown) => e)).toMatchObject({
      code: ErrorCodes.InvalidParams,
    });
    await inst.destroy();
    expect(await host.request('display/get', { instanceId: 'dup', location: { scheme: 'http', host: 'h', webhookBasePath: '/x/' } }).catch((e: unknown) => e)).toMatchObject({
      code: ErrorCodes.UnknownInstance,
    });
    expect(host.violations).toEqual([]);
    expect(await host.close()).toBe(0);
  });

  it('exits 1 when stdin ends without shutdown', async () => {
    const host = await start();
    await host.createInstance();
    expect(await host.closeInput()).toBe(1);
  });
});
