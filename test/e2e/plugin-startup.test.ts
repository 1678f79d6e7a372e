import { afterEach, describe, expect, it } from 'vitest';
import { alive, hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

// A plugin that is slow or stuck before its handshake never holds the server's listen
// (Gotify waits for every plugin, gotify-behavior.md §8): startFlow waits at most
// plugins.startwaitms, then listens; the plugin comes up in the background and its enabled
// instances are enabled then. No timed assertions: the handshake deadline is set far above
// the wait, so "still starting" proves the server did not wait for it.
describe('plugin startup', () => {
  let s: PluginServer | undefined;
  afterEach(async () => {
    const pids = s ? Object.values(await s.processes()).map((p: any) => p.pid).filter((p) => p !== null) : [];
    await s?.close();
    s = undefined;
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  const SHORT_WAIT = { 'plugins.handshaketimeoutms': 30_000, 'plugins.startwaitms': 200 };

  it('listens while a plugin that never answers initialize is still starting', async () => {
    s = await startPluginServer(await pluginsDir(['never-initializes', 'mock']), SHORT_WAIT);
    // startFlow resolved, and the stuck plugin's handshake deadline has not passed.
    expect((await s.api('GET', '/health')).status).toBe(200);
    // Under load the server may listen (after plugins.startwaitms) before the scan has even found
    // the entry: wait for it to be listed, then it must still be starting.
    const entry = await waitFor(async () => (await s!.processes())['never-initializes'], 'the entry to be scanned');
    expect(entry).toMatchObject({ status: 'starting', modulePath: null });
    // The other plugin comes up anyway (before or after listen) and works.
    // Listed once its handshake is done; enable answers 503 until its instances are up too.
    const mock = await waitFor(async () => (await s!.plugins()).find((p) => p.modulePath === 'github.com/flow/test/mock' && p.status === 'running'), 'the mock plugin');
    expect((await s.api('POST', `/plugin/${mock.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await fetch(hookUrl(s, mock, 'echo'))).status).toBe(200);
    // No conf is made for a plugin before its handshake: it is not listed yet.
    expect((await s.plugins()).map((p) => p.modulePath)).toEqual(['github.com/flow/test/mock']);
    expect((await s.processes())['never-initializes'].status).toBe('starting');
  });

  it('brings up a slow plugin after listen and enables the instance its user had enabled', async () => {
    s = await startPluginServer(await pluginsDir(['slow-initialize']), SHORT_WAIT);
    const conf = await waitFor(async () => (await s!.plugins()).find((p) => p.status === 'running'), 'the slow plugin to be up');
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    await s.restart();

    // Listening, plugin not up yet: its endpoints answer with the codes of a plugin that is
    // not running (Gotify's 404 while its module path is unknown), without waiting for it.
    expect((await s.api('GET', '/health')).status).toBe(200);
    const entry = await waitFor(async () => (await s!.processes())['slow-initialize'], 'the entry to be scanned');
    expect(entry.status).toBe('starting');
    expect(await s.plugins()).toEqual([]);
    for (const [method, p] of [
      ['POST', 'enable'],
      ['POST', 'disable'],
      ['GET', 'config'],
      ['GET', 'display'],
    ] as const) {
      expect((await s.api(method, `/plugin/${conf.id}/${p}`, { auth: s.adminAuth })).status).toBe(404);
    }
    expect([404, 503]).toContain((await fetch(hookUrl(s, conf, 'x'))).status);

    // Once up: running, instance created and enabled on the live process (the webhook answers).
    await waitFor(async () => (await fetch(hookUrl(s!, conf, 'x'))).status === 200, 'the slow plugin to be enabled');
    expect((await s.processes())['slow-initialize']).toMatchObject({ status: 'running', instances: 1 });
    expect((await s.plugins())[0]).toMatchObject({ id: conf.id, enabled: true });
  });

  it('listens while a plugin hangs in bringing up its instances; calls on them answer 503', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-hang-create']), { ...SHORT_WAIT, 'plugins.calltimeoutms': 30_000 });
    expect((await s.api('GET', '/health')).status).toBe(200);
    // The handshake may finish before or after listen; once it has, the plugin is listed with
    // its conf while instance/create stays unanswered: still starting, no instance.
    const conf = await waitFor(async () => (await s!.plugins())[0], 'the handshake');
    expect(conf.modulePath).toBe('github.com/flow/test/hostile-hang-create');
    expect((await s.processes())['hostile-hang-create']).toMatchObject({ status: 'starting', instances: 0 });
    const r = await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth });
    expect(r.status).toBe(503);
    expect(r.body.errorDescription).toMatch(/is starting/);
  });

  it('closes at once a server whose plugin is still in its handshake', async () => {
    s = await startPluginServer(await pluginsDir(['never-initializes']), SHORT_WAIT);
    // The entry is listed once the first scan found it (under load that may be after listen).
    const { pid } = await waitFor(async () => (await s!.processes())['never-initializes'], 'the entry to be scanned');
    await s.close();
    s = undefined;
    // Bounded by the stop sequence (plugins.stoptimeoutms steps), not the 30 s handshake deadline:
    // the test's own timeout would catch a close that waited for it.
    if (pid) expect(alive(pid)).toBe(false);
  });
});
