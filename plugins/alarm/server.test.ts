import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../../test/helpers/plugins.js';

// alarm.py in a real server. Installed as a folder entry whose plugin.yaml runs it with python3
// and lowers the minimum interval (the administrator's knob), so rounds come every 100 ms.
const ALARM = fileURLToPath(new URL('./alarm.py', import.meta.url));

describe('alarm plugin in the real server', () => {
  let s: PluginServer;
  let target: Server;
  let targetUrl: string;
  let status = 200;
  let hits = 0;
  /** Checks of the witness instance (its URL ends in /witness), counted apart from `hits`. */
  let witnessHits = 0;
  let alarm: any;

  const yamlPost = (body: string) => s.api('POST', `/plugin/${alarm.id}/config`, { auth: s.adminAuth, body, headers: { 'Content-Type': 'application/x-yaml' } });
  const display = async () => (await s.api('GET', `/plugin/${alarm.id}/display`, { auth: s.adminAuth })).body as string;
  const titles = async () => ((await s.api('GET', '/message', { auth: s.adminAuth })).body.messages as any[]).map((m) => m.title).reverse();

  beforeAll(async () => {
    target = createServer((req, res) => {
      if (req.url === '/witness') witnessHits++;
      else hits++;
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/`;
    const dir = await pluginsDir([]);
    await mkdir(path.join(dir, 'alarm'));
    await writeFile(path.join(dir, 'alarm', 'plugin.yaml'), `command: python3\nargs: ['${ALARM}']\nenv:\n  FLOW_ALARM_MIN_INTERVAL: 10ms\n`);
    s = await startPluginServer(dir);
    alarm = (await s.plugins()).find((p) => p.modulePath === 'github.com/flow/plugins/alarm');
  });
  afterAll(async () => {
    await s?.close();
    target.closeAllConnections();
    await new Promise<void>((r) => target.close(() => r()));
  });

  it('is listed with its capabilities; invalid config is refused with the reason', async () => {
    expect(alarm).toMatchObject({ name: 'alarm', enabled: false, status: 'running', capabilities: ['configurer', 'displayer', 'messenger', 'storager'] });
    expect((await s.api('GET', `/plugin/${alarm.id}/config`, { auth: s.adminAuth })).text).toContain('alarm_priority: 8');
    const bad = await yamlPost('checks:\n  - url: http://example.com/\n    tcp: example.com:80\n');
    expect(bad.status).toBe(400);
    expect(bad.body.errorDescription).toBe('checks[0]: set exactly one of url and tcp');
    expect(await display()).toContain('No checks configured yet.');
  });

  it('alarms once, stays quiet across a server restart while down, and reports the recovery', async () => {
    expect((await yamlPost(`interval: 100ms\nchecks:\n  - name: site\n    url: ${targetUrl}\n`)).status).toBe(200);
    expect((await s.api('POST', `/plugin/${alarm.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    await waitFor(async () => (await display()).includes('| site |') && (await display()).includes('| up |'), 'site up');

    const client = await s.createClient('pager');
    const stream = await s.openStream(client.token);
    status = 502;
    expect(await stream.next()).toMatchObject({ title: 'DOWN: site', priority: 8, extras: { 'client::notification': { click: { url: targetUrl } } } });
    stream.close();
    let at = hits;
    await waitFor(() => hits >= at + 3, 'more failing rounds');
    expect(await display()).toMatch(/\| site \| [^|]+ \| \*\*DOWN\*\* \|/);

    await s.restart();
    at = hits;
    await waitFor(() => hits >= at + 5, 'rounds after the restart');
    expect(await titles()).toEqual(['DOWN: site']);

    status = 200;
    await waitFor(async () => (await titles()).length === 2, 'the recovery');
    at = hits;
    await waitFor(() => hits >= at + 3, 'more passing rounds');
    expect(await titles()).toEqual(['DOWN: site', 'UP: site']);
    expect((await s.api('GET', '/message', { auth: s.adminAuth })).body.messages[0]).toMatchObject({ title: 'UP: site', priority: 4 });
  });

  it('stops checking when disabled', async () => {
    // A second user's alarm checking its own URL every 100 ms witnesses that time passes: two
    // more of its rounds mean the disabled one would have checked (no fixed sleep).
    const witness = await s.createUser('witness', 'witness-pass');
    const conf = (await s.api('GET', '/plugin', { auth: witness.auth })).body.find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/alarm');
    const yaml = { 'Content-Type': 'application/x-yaml' };
    expect((await s.api('POST', `/plugin/${conf.id}/config`, { auth: witness.auth, body: `interval: 100ms\nchecks:\n  - name: witness\n    url: ${targetUrl}witness\n`, headers: yaml })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: witness.auth })).status).toBe(200);

    expect((await s.api('POST', `/plugin/${alarm.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
    const at = hits;
    const seen = witnessHits;
    await waitFor(() => witnessHits >= seen + 2, 'two rounds of the witness instance');
    expect(hits).toBe(at);
    expect(await display()).toContain('Not checking: the plugin is disabled.');
  });
});

describe('alarm.py installed by linking the file', () => {
  it('runs as an executable entry of the plugins folder and exits with the server', async () => {
    const dir = await pluginsDir([]);
    await symlink(ALARM, path.join(dir, 'alarm'));
    const s = await startPluginServer(dir);
    try {
      const [entry] = await s.plugins();
      expect(entry).toMatchObject({ modulePath: 'github.com/flow/plugins/alarm', status: 'running' });
      const pid = (await s.processes()).alarm.pid as number;
      expect(alive(pid)).toBe(true);
      await s.close();
      await waitFor(() => !alive(pid), 'the plugin process to exit');
    } finally {
      await s.close();
    }
  });
});
