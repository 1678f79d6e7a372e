import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startFlow, type FlowHandle } from '@flow/server';
import { FAST, FIXTURES, alive, hookUrl, linkFixture, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

describe('plugin discovery and lifecycle', () => {
  let s: PluginServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const byModule = async (srv: PluginServer, modulePath: string, auth?: string) => (await srv.plugins(auth)).find((p) => p.modulePath === modulePath);

  it('runs executables and manifest folders, skips other entries with a warning, ignores dotfiles, and never logs secrets', async () => {
    const dir = await pluginsDir(['mock', 'env-reporter']);
    await writeFile(path.join(dir, 'README.md'), '# my plugins\n');
    await mkdir(path.join(dir, 'no-manifest'));
    await writeFile(path.join(dir, '.hidden'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    await mkdir(path.join(dir, 'bad-manifest'));
    await writeFile(path.join(dir, 'bad-manifest', 'plugin.yaml'), 'args: [x]\n');
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
    const data = await mkdtemp(path.join(tmpdir(), 'flow-test-'));
    let flow: FlowHandle | undefined;
    try {
      flow = await startFlow({ config: { ...FAST, 'server.listenaddr': '127.0.0.1', 'server.port': 0, datadir: data, passstrength: 4, pluginsdir: dir }, logger });
      const auth = 'Basic ' + Buffer.from('admin:admin').toString('base64');
      const procs = (await (await fetch(`${flow.url}/plugin/admin/processes`, { headers: { authorization: auth } })).json()) as any[];
      expect(procs.map((p) => p.name)).toEqual(['env-reporter', 'mock']);
      const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40).map((l) => l.msg);
      expect(warnings).toEqual(
        expect.arrayContaining([
          'skipping README.md in the plugins folder: not executable (chmod +x it if it is a plugin)',
          'skipping no-manifest in the plugins folder: folder without plugin.yaml',
          'skipping bad-manifest in the plugins folder: plugin.yaml: "command" must be a non-empty string',
        ]),
      );
      expect(warnings.join('\n')).not.toContain('.hidden');

      // Secrets: a secret config value and the webhook token appear nowhere in the log.
      const [mock] = ((await (await fetch(`${flow.url}/plugin`, { headers: { authorization: auth } })).json()) as any[]).filter((p) => p.modulePath === 'github.com/flow/test/mock');
      await fetch(`${flow.url}/plugin/${mock.id}/config`, { method: 'POST', headers: { authorization: auth }, body: 'secret: very-secret-value\n' });
      await fetch(`${flow.url}/plugin/${mock.id}/enable`, { method: 'POST', headers: { authorization: auth } });
      expect((await fetch(`${flow.url}/plugin/${mock.id}/custom/${mock.token}/echo`)).status).toBe(200);
      await waitFor(() => lines.some((l) => l.includes('configured with secret')), 'the plugin\'s stderr line in the log');
      // stderr goes to the server log tagged with the plugin and its pid; JSON lines keep their level.
      await fetch(`${flow.url}/plugin/${mock.id}/custom/${mock.token}/log`);
      const mockPid = procs.find((p) => p.name === 'mock').pid;
      const parsed = await waitFor(() => {
        const entries = lines.map((l) => JSON.parse(l));
        return entries.some((e) => e.msg === 'plain line from the mock') && entries;
      }, 'the stderr lines in the log');
      // Its instanceId and fields come along as context, masked like the rest of the line.
      expect(parsed.find((e) => e.msg === 'json line from the mock')).toMatchObject({
        level: 40,
        plugin: 'mock',
        pid: mockPid,
        stderr: true,
        instanceId: String(mock.id),
        fields: { secret: '[masked]', n: 1 },
      });
      expect(parsed.find((e) => e.msg === 'plain line from the mock')).toMatchObject({ level: 20, plugin: 'mock', pid: mockPid });
      const log = lines.join('');
      expect(log).toContain('configured with secret [masked]');
      expect(log).not.toContain('very-secret-value');
      expect(log).not.toContain(mock.token);
    } finally {
      await flow?.close();
      await rm(dir, { recursive: true, force: true });
      await rm(data, { recursive: true, force: true });
    }
  });

  it('gives plugins an allowlisted environment plus their manifest\'s, never the server\'s secrets', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { FLOW_DEFAULTUSER_PASS: 'server-secret', AWS_SECRET_ACCESS_KEY: 'cloud-secret', NODE_OPTIONS: '--max-old-space-size=4096', LC_TIME: 'C' });
    try {
      s = await startPluginServer(await pluginsDir(['env-reporter']));
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    const conf = await byModule(s, 'github.com/flow/test/env-reporter');
    await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth });
    const { env, argv, cwd } = (await (await fetch(hookUrl(s, conf, ''))).json()) as any;
    expect(env).toMatchObject({ MANIFEST_VAR: 'from-manifest', FLOW_PLUGIN_PROTOCOL: '1.1', PATH: process.env.PATH, LC_TIME: 'C' });
    for (const name of ['FLOW_DEFAULTUSER_PASS', 'AWS_SECRET_ACCESS_KEY', 'NODE_OPTIONS']) expect(env).not.toHaveProperty(name);
    expect(Object.keys(env).filter((k) => k.startsWith('FLOW_'))).toEqual(['FLOW_PLUGIN_PROTOCOL', 'FLOW_PLUGIN_RUN']);
    expect(argv).toEqual(['--flag']);
    expect(cwd).toBe(path.join(FIXTURES, 'env-reporter'));
  });

  it('starts, restarts and stops plugins as the folder changes, and keeps the confs of a removed plugin', async () => {
    const dir = await pluginsDir([]);
    s = await startPluginServer(dir);
    expect(await s.plugins()).toEqual([]);
    const folder = path.join(dir, 'mock');
    const writeManifest = (name: string) =>
      writeFile(path.join(folder, 'plugin.yaml'), `command: node\nargs: [${JSON.stringify(path.join(FIXTURES, 'mock', 'plugin.mjs'))}]\nenv: { MOCK_NAME: ${name} }\n`);

    // 1. added: started, instances created
    await mkdir(folder);
    await writeManifest('first');
    const conf = await waitFor(() => byModule(s!, 'github.com/flow/test/mock'), 'the added plugin');
    expect(conf.name).toBe('first');
    // The conf is listed once the plugin has handshaken; its instance may still be coming up (503 until then).
    await waitFor(async () => (await s!.api('POST', `/plugin/${conf.id}/config`, { auth: s!.adminAuth, body: 'testkey: kept\n' })).status === 200 || undefined, 'the config to be accepted');
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    const pid1 = (await s.processes()).mock.pid;

    // 2. replaced: restarted with the new file, config and enabled state re-applied
    await writeManifest('second');
    const replaced = await waitFor(async () => {
      const p = await byModule(s!, 'github.com/flow/test/mock');
      return p?.name === 'second' && p.status === 'running' && p;
    }, 'the replaced plugin to run');
    expect(replaced).toMatchObject({ id: conf.id, enabled: true });
    expect(alive(pid1)).toBe(false);
    expect(((await (await fetch(hookUrl(s, conf, 'echo'))).json()) as any).testkey).toBe('kept');

    // 3. removed: stopped; its conf is dangling (404), its application deletable
    const internal = ((await s.api('GET', '/application', { auth: s.adminAuth })).body as any[]).find((a) => a.internal);
    const pid2 = (await s.processes()).mock.pid;
    await rm(folder, { recursive: true });
    await waitFor(async () => (await s!.plugins()).length === 0, 'the plugin to be removed');
    expect(alive(pid2)).toBe(false);
    expect((await s.api('GET', `/plugin/${conf.id}/config`, { auth: s.adminAuth })).body.errorDescription).toBe('plugin instance not found');
    expect((await fetch(hookUrl(s, conf, 'echo'))).status).toBe(404);
    const app = ((await s.api('GET', '/application', { auth: s.adminAuth })).body as any[]).find((a) => a.id === internal.id);
    expect(app.internal).toBe(false);
    expect((await s.api('DELETE', `/application/${internal.id}`, { auth: s.adminAuth })).status).toBe(200);

    // 4. added back: the same conf (id, token, config, enabled), a new internal application
    await linkFixture(dir, 'mock');
    const back = await waitFor(async () => {
      const p = await byModule(s!, 'github.com/flow/test/mock');
      return p?.status === 'running' && p;
    }, 'the plugin to come back');
    expect(back).toMatchObject({ id: conf.id, token: conf.token, enabled: true });
    expect((await s.api('GET', `/plugin/${conf.id}/config`, { auth: s.adminAuth })).text).toBe('testkey: kept\n');
    const echo = (await (await fetch(hookUrl(s, conf, 'echo'))).json()) as any;
    expect(echo).toMatchObject({ testkey: 'kept', enabled: true });
    const newApp = ((await s.api('GET', '/application', { auth: s.adminAuth })).body as any[]).find((a) => a.internal);
    expect(newApp.id).not.toBe(internal.id);
    const { id: sent } = (await (await fetch(hookUrl(s, conf, 'send?message=after'))).json()) as any;
    expect((await s.api('GET', `/application/${newApp.id}/message`, { auth: s.adminAuth })).body.messages[0].id).toBe(sent);
  });

  it('gives a failed plugin a fresh start when its file changes', async () => {
    const dir = await pluginsDir([]);
    s = await startPluginServer(dir, { 'plugins.maxrestarts': 2 });
    const folder = path.join(dir, 'flaky');
    await mkdir(folder);
    await writeFile(path.join(folder, 'plugin.yaml'), `command: node\nargs: [${JSON.stringify(path.join(FIXTURES, 'crash-at-start', 'plugin.mjs'))}]\n`);
    await waitFor(async () => (await s!.processes()).flaky?.status === 'failed', 'the plugin to fail');
    // The fixed version lands in the folder: no admin action needed.
    await writeFile(path.join(folder, 'plugin.yaml'), `command: node\nargs: [${JSON.stringify(path.join(FIXTURES, 'mock', 'plugin.mjs'))}]\n`);
    const fixed = await waitFor(async () => {
      const p = (await s!.processes()).flaky;
      return p.status === 'running' && p;
    }, 'the fixed plugin to run');
    expect(fixed).toMatchObject({ modulePath: 'github.com/flow/test/mock', restarts: 1, statusReason: null });
    expect((await s.plugins()).map((p) => p.name)).toEqual(['mock plugin']);
  });

  it('enables instances only once the server listens, so a plugin can call the API from enable', async () => {
    const port = await freePort();
    s = await startPluginServer(await pluginsDir(['slow-enable']), { 'server.port': port });
    const conf = await byModule(s, 'github.com/flow/test/slow-enable');
    const config = `probeurl: http://127.0.0.1:${port}/health\n`;
    expect((await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: config })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    await s.restart();
    // Had enable run before listen, the probe would have failed and the instance would be disabled now.
    const after = await byModule(s, 'github.com/flow/test/slow-enable');
    expect(after.enabled).toBe(true);
    expect(((await (await fetch(hookUrl(s, conf, 'probe'))).json()) as any).probe).toBe(200);
  });

  it('serialises calls per instance only: a slow enable of one user never delays another user', async () => {
    s = await startPluginServer(await pluginsDir(['slow-enable', 'mock']));
    const bob = await s.createUser('bob');
    const adminSlow = await byModule(s, 'github.com/flow/test/slow-enable');
    await s.api('POST', `/plugin/${adminSlow.id}/config`, { auth: s.adminAuth, body: 'delayms: 2000\n' });
    let slowDone = false;
    const slow = s.api('POST', `/plugin/${adminSlow.id}/enable`, { auth: s.adminAuth }).then((r) => {
      slowDone = true;
      return r;
    });
    const bobSlow = await byModule(s, 'github.com/flow/test/slow-enable', bob.auth);
    const bobMock = await byModule(s, 'github.com/flow/test/mock', bob.auth);
    expect((await s.api('POST', `/plugin/${bobSlow.id}/enable`, { auth: bob.auth })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${bobMock.id}/enable`, { auth: bob.auth })).status).toBe(200);
    expect((await s.api('GET', `/plugin/${adminSlow.id}/config`, { auth: s.adminAuth })).status).toBe(200);
    expect(slowDone).toBe(false);
    expect((await slow).status).toBe(200);
  });

  it('stores an enabled instance whose enable fails at start as disabled (Gotify §7 case 22)', async () => {
    s = await startPluginServer(await pluginsDir(['mock']));
    const conf = await byModule(s, 'github.com/flow/test/mock');
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    // The plugin will refuse to enable from now on (its config says so); the conf is still enabled.
    expect((await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: 'failenable: true\n' })).status).toBe(200);
    await s.restart();
    expect((await byModule(s, 'github.com/flow/test/mock')).enabled).toBe(false);
    expect((await fetch(hookUrl(s, conf, 'echo'))).status).toBe(400);
  });

  it('fixes the internal flag of plugin applications at start: internal only while the plugin is present (§7 case 32)', async () => {
    s = await startPluginServer(await pluginsDir(['mock']));
    const conf = await byModule(s, 'github.com/flow/test/mock');
    await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth });
    const { id } = (await (await fetch(hookUrl(s, conf, 'send?message=x'))).json()) as any;
    const appid = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages.find((m: any) => m.id === id).appid;
    await s.api('POST', '/application', { auth: s.adminAuth, json: { name: 'plain' } });
    const internalOf = async () => Object.fromEntries(((await s!.api('GET', '/application', { auth: s!.adminAuth })).body as any[]).map((a) => [a.id, a.internal]));
    expect((await internalOf())[appid]).toBe(true);
    // Removed while the server is down: the next start finds no plugin for the application.
    await s.flow.close();
    await rm(path.join(s.pluginsDir, 'mock'));
    await s.restart();
    expect((await internalOf())[appid]).toBe(false);
    await linkFixture(s.pluginsDir, 'mock');
    await waitFor(async () => (await internalOf())[appid] === true, 'the application to be internal again');
  });

  it('applies the stored config at start; a config the plugin now rejects disables the instance and keeps the text as comments', async () => {
    s = await startPluginServer(await pluginsDir(['mock']));
    const conf = await byModule(s, 'github.com/flow/test/mock');
    expect((await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: 'testkey: mine\n' })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    // The stored config goes bad behind the plugin's back (as after a plugin upgrade with stricter rules).
    await s.flow.app.store.pluginConfs.update(conf.id, { config: 'testkey: mine\nisnotvalid: true\n' });
    await s.restart();
    const after = await byModule(s, 'github.com/flow/test/mock');
    expect(after.enabled).toBe(false);
    const text = (await s.api('GET', `/plugin/${conf.id}/config`, { auth: s.adminAuth })).text;
    expect(text).toBe(
      '# Plugin initialization failed because it rejected the current config. It might be outdated.\r\n' +
        '# A default plugin configuration is used:\r\n' +
        'testkey: default\r\nisnotvalid: false\r\n' +
        '# The original configuration: \r\n' +
        '# testkey: mine\r\n# isnotvalid: true\r\n',
    );
    // The fallback is valid YAML: enabling works and the plugin runs on the defaults.
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect(((await (await fetch(hookUrl(s, conf, 'echo'))).json()) as any).testkey).toBe('default');
  });
});
