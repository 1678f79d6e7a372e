import { afterEach, describe, expect, it } from 'vitest';
import { rm, symlink } from 'node:fs/promises';
import { pino } from 'pino';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

const REPO_PLUGINS = fileURLToPath(new URL('../../plugins/', import.meta.url));
const SHIPPED = ['alarm', 'clock', 'echo', 'github', 'notes', 'rss', 'webhook-forward'];
const modulePath = (name: string) => `github.com/flow/plugins/${name}`;

let s: PluginServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function allRunning(server: PluginServer, names: string[]): Promise<Record<string, any>> {
  return waitFor(async () => {
    const procs = await server.processes();
    return names.every((n) => procs[n]?.status === 'running') && procs;
  }, `${names.join(', ')} running`, 30_000);
}

describe('bundled plugins (plugins.bundled)', { timeout: 120_000 }, () => {
  it('are available on a fresh install with an empty plugins folder, each disabled until a user enables it', async () => {
    s = await startPluginServer(await pluginsDir(), { 'plugins.bundled': true });
    const procs = await allRunning(s, SHIPPED);
    expect(Object.keys(procs).sort()).toEqual(SHIPPED);
    const list = await s.plugins();
    expect(list.map((p) => p.modulePath).sort()).toEqual(SHIPPED.map(modulePath));
    expect(list.every((p) => p.enabled === false)).toBe(true);
    expect((await s.api('GET', '/plugin/admin/folder', { auth: s.adminAuth })).body).toEqual({ pluginsdir: s.pluginsDir, bundled: REPO_PLUGINS.replace(/\/$/, '') });
    // Each works: enable the echo plugin and read its display.
    const echo = list.find((p) => p.modulePath === modulePath('echo'))!;
    expect((await s.api('POST', `/plugin/${echo.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('GET', `/plugin/${echo.id}/display`, { auth: s.adminAuth })).status).toBe(200);
  });

  it('are not loaded with plugins.bundled: false, and a shipped folder linked into the plugins folder runs as it is', async () => {
    const dir = await pluginsDir();
    // alarm.py keeps its name: the folder's plugin.yaml says how to run it.
    await symlink(path.join(REPO_PLUGINS, 'alarm'), path.join(dir, 'alarm'));
    s = await startPluginServer(dir, { 'plugins.bundled': false });
    await allRunning(s, ['alarm']);
    expect(Object.keys(await s.processes())).toEqual(['alarm']);
    // The web UI's empty state names the folder (admins only).
    expect((await s.api('GET', '/plugin/admin/folder', { auth: s.adminAuth })).body).toEqual({ pluginsdir: dir, bundled: null });
    const bob = await s.createUser('bob');
    expect((await s.api('GET', '/plugin/admin/folder', { auth: bob.auth })).status).toBe(403);
    expect((await s.plugins()).map((p) => p.modulePath)).toEqual([modulePath('alarm')]);
  });

  it("a user's own copy in the plugins folder wins cleanly over the bundled one: left out with one info line naming both", async () => {
    const dir = await pluginsDir();
    await symlink(path.join(REPO_PLUGINS, 'rss', 'dist', 'flow-rss.mjs'), path.join(dir, 'flow-rss.mjs'));
    await symlink(path.join(REPO_PLUGINS, 'echo'), path.join(dir, 'echo'));
    const lines: any[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    s = await startPluginServer(dir, { 'plugins.bundled': true }, undefined, logger);
    const procs = await allRunning(s, ['flow-rss.mjs', 'echo', 'alarm', 'clock', 'github', 'notes', 'webhook-forward']);
    // rss is served by the folder's copy; the bundled rss is not a plugin of this server at all, not a failed one.
    expect(Object.keys(procs).sort()).toEqual(['alarm', 'clock', 'echo', 'flow-rss.mjs', 'github', 'notes', 'webhook-forward']);
    expect((await s.plugins()).filter((p) => p.modulePath === modulePath('rss'))).toHaveLength(1);
    const said = lines.filter((l) => l.entry === 'rss' || l.plugin === 'rss');
    expect(said.filter((l) => l.level >= 40)).toEqual([]);
    const info = said.filter((l) => l.shadowedBy === 'flow-rss.mjs');
    expect(info).toHaveLength(1);
    expect(info[0].level).toBe(30);
    expect(info[0].msg).toContain(path.join(REPO_PLUGINS, 'rss'));
    expect(info[0].msg).toContain(path.join(dir, 'flow-rss.mjs'));
  });

  it('a copy added while the bundled one runs takes over; removed, the bundled one comes back', async () => {
    const dir = await pluginsDir();
    s = await startPluginServer(dir, { 'plugins.bundled': true });
    await allRunning(s, SHIPPED);
    const before = (await s.plugins()).find((p) => p.modulePath === modulePath('notes'))!;
    expect((await s.api('POST', `/plugin/${before.id}/enable`, { auth: s.adminAuth })).status).toBe(200);

    await symlink(path.join(REPO_PLUGINS, 'notes', 'dist', 'flow-notes.mjs'), path.join(dir, 'my-notes.mjs'));
    await waitFor(async () => {
      const procs = await s!.processes();
      return procs['my-notes.mjs']?.status === 'running' && procs.notes === undefined;
    }, "the folder's notes running in place of the bundled one");
    // Same module path, same configuration: the user's instance is enabled on the new copy.
    const after = (await s.plugins()).filter((p) => p.modulePath === modulePath('notes'));
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: before.id, enabled: true });

    await rm(path.join(dir, 'my-notes.mjs'));
    await waitFor(async () => (await s!.processes()).notes?.status === 'running', 'the bundled notes back');
    expect((await s.plugins()).find((p) => p.modulePath === modulePath('notes'))).toMatchObject({ id: before.id, enabled: true });
  });
});
