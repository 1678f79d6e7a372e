import { cpSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST, alive, hookUrl, pluginsDir, startPluginServer, waitFor } from '../helpers/plugins.js';
import { startTestServer } from '../helpers/server.js';

describe('a server started on a copy of a live data dir', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  const leftovers: number[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    for (const pid of leftovers.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  });

  it("leaves the live server's plugins and their daemons alone", async () => {
    const a = await startPluginServer(await pluginsDir(['hostile-daemon', 'mock']));
    cleanup.push(() => a.close());
    const [daemonConf] = (await a.plugins()).filter((p) => p.modulePath === 'github.com/flow/test/hostile-daemon');
    expect((await a.api('POST', `/plugin/${daemonConf.id}/enable`, { auth: a.adminAuth })).status).toBe(200);
    const res = await fetch(hookUrl(a, daemonConf, 'daemon'));
    const { daemon } = (await res.json()) as { pid: number; daemon: number };
    leftovers.push(daemon);
    const before = await a.processes();
    const pids = Object.values(before).map((p: any) => p.pid as number);
    expect(pids.length).toBe(2);
    for (const pid of pids) expect(alive(pid)).toBe(true);

    // Copied while live, as a backup by `cp -a` would be; then a second server on the copy.
    const copy = await mkdtemp(path.join(tmpdir(), 'flow-copy-'));
    cleanup.push(() => rm(copy, { recursive: true, force: true }));
    cpSync(a.dataDir, copy, { recursive: true });
    const bPlugins = await pluginsDir(['mock']);
    const b = await startTestServer({ dataDir: copy, config: { ...FAST, pluginsdir: bPlugins } });
    cleanup.push(async () => {
      await b.close();
      await rm(bPlugins, { recursive: true, force: true });
    });
    await waitFor(async () => (await b.api('GET', '/plugin', { auth: b.adminAuth })).body?.length === 1, 'the copy to run its plugin');

    for (const pid of [...pids, daemon]) expect(alive(pid)).toBe(true);
    const after = await a.processes();
    for (const [name, p] of Object.entries(before)) {
      expect(after[name].pid).toBe((p as any).pid);
      expect(after[name].restarts).toBe((p as any).restarts);
    }
    // The live server's plugin still answers.
    expect((await fetch(hookUrl(a, daemonConf, 'daemon'))).status).toBe(200);

    // Stopping the copy does not touch them either; stopping the original cleans its own.
    await b.close();
    for (const pid of [...pids, daemon]) expect(alive(pid)).toBe(true);
    await a.close();
    await waitFor(() => !alive(daemon) && pids.every((p) => !alive(p)), "the original's plugins to stop with it");
  });
});
