import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginsDir, startPluginServer, waitFor, type PluginServer } from '../../../test/helpers/plugins.js';

const EXECUTABLE = fileURLToPath(new URL('../dist/flow-clock.mjs', import.meta.url));

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

    // A second user's clock on the same schedule witnesses that ticks go on: two more of its
    // ticks mean the disabled clock had one of its own (no fixed sleep, however busy the machine).
    const witness = await s.createUser('witness', 'witness-pass');
    const witnessConf = (await s.api('GET', '/plugin', { auth: witness.auth })).body.find((p: { modulePath: string }) => p.modulePath === 'github.com/flow/plugins/clock');
    const yaml = { 'content-type': 'application/x-yaml' };
    expect((await s.api('POST', `/plugin/${witnessConf.id}/config`, { auth: witness.auth, body: 'schedules:\n  - cron: "*/1 * * * * *"\n    text: witness\n', headers: yaml })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${witnessConf.id}/enable`, { auth: witness.auth })).status).toBe(200);
    const witnessTicks = async () => (await s.api('GET', '/message', { auth: witness.auth })).body.messages.length as number;

    expect((await s.api('POST', `/plugin/${plugin.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
    const afterDisable = await ticks();
    const seen = await witnessTicks();
    await waitFor(async () => (await witnessTicks()) >= seen + 2, 'two ticks of the witness clock');
    expect(await ticks()).toBe(afterDisable);
    expect((await s.api('POST', `/plugin/${witnessConf.id}/disable`, { auth: witness.auth })).status).toBe(200);
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
