import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

// The kit-based plugins as users install them: the bundled single-file executables
// (built by `npm run build`) copied or linked into the plugins folder, served by the real
// server (Gotify §7 cases 34-38, through the API instead of the web UI).
const bundle = (name: string) => fileURLToPath(new URL(`../../plugins/${name}/dist/flow-${name}.mjs`, import.meta.url));

describe('kit-based plugins in the server', () => {
  let s: PluginServer;
  let echo: any;
  let minimal: any;

  beforeAll(async () => {
    const dir = await pluginsDir([]);
    for (const name of ['echo', 'minimal']) await symlink(bundle(name), path.join(dir, name));
    s = await startPluginServer(dir);
    const list = await s.plugins();
    echo = list.find((p) => p.modulePath === 'github.com/flow/plugins/echo');
    minimal = list.find((p) => p.modulePath === 'github.com/flow/plugins/minimal');
  });
  afterAll(async () => {
    const pids = Object.values(await s.processes()).map((p: any) => p.pid as number);
    await s.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('lists both with their info and inferred capabilities', () => {
    expect(echo).toMatchObject({ name: 'echo', version: '1.0.0', enabled: false, status: 'running', capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker', 'subscriber'] });
    expect(minimal).toMatchObject({ name: 'minimal plugin', capabilities: [], status: 'running' });
  });

  it('enables minimal and toggles it back', async () => {
    expect((await s.api('POST', `/plugin/${minimal.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${minimal.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('GET', `/plugin/${minimal.id}/config`, { auth: s.adminAuth })).status).toBe(400);
  });

  it('serves echo: display link, webhook, message on the stream, config', async () => {
    const display = (await s.api('GET', `/plugin/${echo.id}/display`, { auth: s.adminAuth })).body as string;
    const url = hookUrl(s, echo, 'echo');
    expect(display).toContain(`Echo server running at: [${url}](${url})`);
    expect((await fetch(url)).status).toBe(400);
    expect((await s.api('POST', `/plugin/${echo.id}/enable`, { auth: s.adminAuth })).status).toBe(200);

    const client = await s.createClient('phone');
    const stream = await s.openStream(client.token);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello world');
    expect(await stream.next()).toMatchObject({ title: 'Hello received', message: 'echo server received a hello message 1 times', priority: 2, extras: { 'plugin::name': 'echo' } });
    stream.close();

    expect((await s.api('GET', `/plugin/${echo.id}/config`, { auth: s.adminAuth })).text).toBe('magic_string: hello world\n');
    const bad = await s.api('POST', `/plugin/${echo.id}/config`, { auth: s.adminAuth, body: 'magic_string: ""\n' });
    expect(bad.status).toBe(400);
    expect(bad.body.errorDescription).toBe('magic_string must not be empty');
    expect((await s.api('POST', `/plugin/${echo.id}/config`, { auth: s.adminAuth, body: 'magic_string: hi there\n' })).status).toBe(200);
    expect(await (await fetch(url)).text()).toBe('hi there');
  });

  it('comes back after SIGKILL with its config, enabled state and stored counter', async () => {
    const before = (await s.processes()).echo.pid as number;
    process.kill(before, 'SIGKILL');
    const text = await waitFor(async () => {
      const r = await fetch(hookUrl(s, echo, 'echo'));
      return r.status === 200 && r.text();
    }, 'echo to be back');
    expect(text).toBe('hi there');
    expect((await s.processes()).echo.pid).not.toBe(before);
    const messages = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages as any[];
    expect(messages[0].message).toBe('echo server received a hello message 3 times');
  });
});
