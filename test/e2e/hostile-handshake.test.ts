import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, alive, hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

// Plugins that lie in the handshake (test/fixtures/plugins/hostile-init-*): a malformed
// initialize result is a failed start with the reason shown, a foreign version is
// incompatible, a second answer is ignored; the server and the other plugins start anyway.
describe('hostile plugins: handshake liars', () => {
  let s: PluginServer;
  const pids = new Set<number>();
  beforeAll(async () => {
    const dir = await pluginsDir(['hostile-init-no-module-path', 'hostile-init-caps-not-array', 'hostile-init-version-9-9', 'hostile-init-twice', 'mock']);
    await symlink(path.join(FIXTURES, 'hostile-sh-crash', 'plugin.sh'), path.join(dir, 'hostile-sh-crash'));
    s = await startPluginServer(dir, { 'plugins.maxrestarts': 2 });
  });
  afterAll(async () => {
    for (const p of Object.values(await s.processes())) if ((p as any).pid) pids.add((p as any).pid);
    await s.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  const settled = (name: string, status: string) =>
    waitFor(async () => {
      const p = (await s.processes())[name];
      if (p.pid) pids.add(p.pid);
      return p.status === status && p;
    }, `${name} to be ${status}`);

  it.each([
    ['hostile-init-no-module-path', /failed the handshake: .*info\.modulePath/],
    ['hostile-init-caps-not-array', /failed the handshake: .*capabilities/],
  ])('marks %s failed, naming the bad field, with no process left', async (name, reason) => {
    const p = await settled(name, 'failed');
    expect(p.statusReason).toMatch(/^crashed 2 times/);
    expect(p.statusReason).toMatch(reason);
    expect(p.pid).toBeNull();
  });

  it('marks a shell plugin that dies at once failed, with its binary stderr readable in the admin endpoint', async () => {
    const p = await settled('hostile-sh-crash', 'failed');
    expect(p.statusReason).toMatch(/^crashed 2 times within \d+ s: exited with code 3 before the handshake/);
    expect(p.statusReason).toContain('fatal: cannot find libfoo.so.3');
    const boot = p.stderr.find((l: string) => l.startsWith('boot:'));
    expect(boot).toContain('\uFFFD');
    expect(p.stderr).toContain('fatal: cannot find libfoo.so.3');
  });

  it('marks a plugin answering protocol version 9.9 incompatible, naming both versions', async () => {
    const p = await settled('hostile-init-version-9-9', 'incompatible');
    expect(p.statusReason).toBe('protocol version mismatch: the plugin picked 9.9, this server speaks 1.1');
    expect(p).toMatchObject({ pid: null, restarts: 0 });
  });

  it('keeps the first of two initialize answers: the second cannot change the module path', async () => {
    const p = await settled('hostile-init-twice', 'running');
    expect(p.modulePath).toBe('github.com/flow/test/hostile-init-twice');
    const list = await s.plugins();
    expect(list.map((c) => c.modulePath)).not.toContain('github.com/evil/impostor');
    const conf = list.find((c) => c.modulePath === 'github.com/flow/test/hostile-init-twice');
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await fetch(hookUrl(s, conf, 'x'))).status).toBe(200);
  });

  it('lists only the plugins that completed a handshake, and the others keep working', async () => {
    const names = (await s.plugins()).map((c) => c.modulePath).sort();
    expect(names).toEqual(['github.com/flow/test/hostile-init-twice', 'github.com/flow/test/mock']);
    const mock = (await s.plugins()).find((c) => c.modulePath === 'github.com/flow/test/mock');
    expect((await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await fetch(hookUrl(s, mock, 'echo'))).status).toBe(200);
  });
});
