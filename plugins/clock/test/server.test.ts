import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginsDir, startPluginServer, type PluginServer } from '../../../test/helpers/plugins.js';

const EXECUTABLE = fileURLToPath(new URL('../dist/flow-clock.mjs', import.meta.url));
/** Longer than one tick of a per-second schedule: enough to see that nothing fires. */
const QUIET_MS = 1500;

describe('clock in a real server', () => {
  let s: PluginServer;
  let plugin: { id: number };
  const ticks = async () =>
    (await s.api('GET', '/message', { auth: s.adminAuth })).body.messages.filter((m: { message: string }) => m.message === 'tick').length as number;

  beforeAll(async () => {
    const dir = await pluginsDir();
    await symlink(EXECUTABLE, path.join(dir, 'flow-clock.mjs'));
    s = await startPluginServer(dir);
    plugin = (await s.plugins()).find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/clock');
    expect(plugin).toBeDefined();
  });
  afterAll(async () => {
    await s?.close(); // also removes the plugins folder
  });

  const setConfig = (yaml: string) => s.api('POST', `/plugin/${plugin.id}/config`, { auth: s.adminAuth, body: yaml, headers: { 'content-type': 'application/x-yaml' } });

  it('rejects an invalid cron with a reason naming the entry', async () => {
    const res = await setConfig('schedules:\n  - cron: "0 9 * * *"\n    text: ok\n  - cron: "*/x * * * *"\n    text: bad\n');
    expect(res.status).toBe(400);
    expect(res.text).toContain('schedules[1]: invalid cron \\"*/x * * * *\\"');
  });

  it('sends on schedule once enabled, and stops after disable', async () => {
    expect((await setConfig('schedules:\n  - cron: "*/1 * * * * *"\n    text: tick\n    title: Clock\n')).status).toBe(200);
    expect((await s.api('GET', `/plugin/${plugin.id}/display`, { auth: s.adminAuth })).body).toContain('**Disabled**');

    const client = await s.createClient('clock test');
    const stream = await s.openStream(client.token);
    expect((await s.api('POST', `/plugin/${plugin.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    const live = await stream.next(5000);
    stream.close();
    expect(live).toMatchObject({ title: 'Clock', message: 'tick' });

    const display = (await s.api('GET', `/plugin/${plugin.id}/display`, { auth: s.adminAuth })).body;
    expect(display).toContain('**Enabled**');
    expect(display).toMatch(/\| `\*\/1 \* \* \* \* \*` \| Clock \| tick \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \|/);

    expect((await s.api('POST', `/plugin/${plugin.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
    const afterDisable = await ticks();
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(await ticks()).toBe(afterDisable);
  });

  it('an enabled clock starts again with its schedule after a server restart', async () => {
    expect((await s.api('POST', `/plugin/${plugin.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    await s.restart();
    const client = await s.createClient('after restart');
    const stream = await s.openStream(client.token);
    const live = await stream.next(5000);
    stream.close();
    expect(live).toMatchObject({ title: 'Clock', message: 'tick' });
  });
});
