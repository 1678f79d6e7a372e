import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer, type PluginServer } from '../../../test/helpers/plugins.js';

// The built single-file executable (`npm run build`), exactly what a user copies into pluginsdir.
const EXECUTABLE = fileURLToPath(new URL('../dist/flow-echo.mjs', import.meta.url));

describe('echo in a real server', () => {
  let s: PluginServer;
  let plugin: { id: number; token: string; name: string; modulePath: string; enabled: boolean; capabilities: string[] };
  const hook = () => hookUrl(s, plugin, 'echo');

  beforeAll(async () => {
    const dir = await pluginsDir();
    await symlink(EXECUTABLE, path.join(dir, 'flow-echo.mjs'));
    s = await startPluginServer(dir);
    plugin = (await s.plugins()).find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/echo');
  });
  afterAll(async () => {
    await s?.close(); // also removes the plugins folder
  });

  it('is listed with its name, module path and every capability, disabled', () => {
    expect(plugin).toMatchObject({ name: 'echo', modulePath: 'github.com/flow/plugins/echo', enabled: false });
    expect([...plugin.capabilities].sort()).toEqual(['configurer', 'displayer', 'messenger', 'storager', 'subscriber', 'webhooker']);
  });

  it('webhook: 400 while disabled, then counts, sends and answers the magic string', async () => {
    expect((await fetch(hook())).status).toBe(400);
    expect((await s.api('POST', `/plugin/${plugin.id}/enable`, { auth: s.adminAuth })).status).toBe(200);

    const client = await s.createClient('echo test');
    const stream = await s.openStream(client.token);
    for (const n of [1, 2]) {
      const res = await fetch(hook());
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello world');
      const live = await stream.next();
      expect(live).toMatchObject({ title: 'Hello received', message: `echo server received a hello message ${n} times`, priority: 2 });
      expect(live.title).toMatch(/^.+received$/);
    }
    stream.close();

    const messages = await s.api('GET', '/message', { auth: s.adminAuth });
    expect(messages.body.messages.map((m: { message: string }) => m.message).slice(0, 2)).toEqual([
      'echo server received a hello message 2 times',
      'echo server received a hello message 1 times',
    ]);
  });

  it('display: the absolute webhook URL', async () => {
    const res = await s.api('GET', `/plugin/${plugin.id}/display`, { auth: s.adminAuth });
    expect(res.status).toBe(200);
    expect(res.body).toContain(`[${hook()}](${hook()})`);
    const proxied = await s.api('GET', `/plugin/${plugin.id}/display`, {
      auth: s.adminAuth,
      headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'flow.example.com' },
    });
    expect(proxied.body).toContain(hookUrl({ url: 'https://flow.example.com' }, plugin, 'echo'));
  });

  it('config: a new magic string is answered, an empty one is refused with the reason', async () => {
    const bad = await s.api('POST', `/plugin/${plugin.id}/config`, { auth: s.adminAuth, body: 'magic_string: ""', headers: { 'content-type': 'application/x-yaml' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('magic_string must not be empty');
    const ok = await s.api('POST', `/plugin/${plugin.id}/config`, { auth: s.adminAuth, body: 'magic_string: open sesame', headers: { 'content-type': 'application/x-yaml' } });
    expect(ok.status).toBe(200);
    expect(await (await fetch(hook())).text()).toBe('open sesame');
  });

  it('subscriber: sees messages of the user\'s other applications', async () => {
    const app = await s.createApp({ name: 'other' });
    expect((await s.api('POST', '/message', { token: app.token, json: { message: 'from elsewhere' } })).status).toBe(200);
    await expect
      .poll(async () => (await s.api('GET', `/plugin/${plugin.id}/display`, { auth: s.adminAuth })).body, { timeout: 5000 })
      .toMatch(/[1-9]\d* messages? from your other applications seen/);
  });

  it('the counter lives in storage: it survives a restart, and so does the config', async () => {
    const before = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages.filter((m: { title: string }) => m.title === 'Hello received').length;
    await s.restart();
    const res = await fetch(hook());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('open sesame');
    const latest = (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages[0];
    expect(latest.message).toBe(`echo server received a hello message ${before + 1} times`);
  });
});
