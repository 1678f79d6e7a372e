import { afterEach, describe, expect, it } from 'vitest';
import { alive, hookUrl, linkFixture, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

// Failure shapes, one fixture each (test/fixtures/plugins/<shape>): the server keeps
// serving, callers get a clear error at once, and crashed plugins come back with their
// instances recreated, configured and re-enabled.
describe('plugin supervision', () => {
  let s: PluginServer | undefined;
  afterEach(async () => {
    const pids = s ? Object.values(await s.processes()).map((p: any) => p.pid).filter((p) => p !== null) : [];
    await s?.close();
    s = undefined;
    // No plugin process outlives its server.
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  const enable = async (srv: PluginServer, conf: any) => expect((await srv.api('POST', `/plugin/${conf.id}/enable`, { auth: srv.adminAuth })).status).toBe(200);
  const byModule = async (srv: PluginServer, modulePath: string) => (await srv.plugins()).find((p) => p.modulePath === modulePath);

  // Three crashes with backoff: over 30 s on a busy machine (the bound, not a speed target).
  it('marks a plugin that dies before the handshake failed, with its stderr, and the server keeps serving', { timeout: 120_000 }, async () => {
    s = await startPluginServer(await pluginsDir(['crash-at-start', 'mock']), { 'plugins.maxrestarts': 3 });
    const failed = await waitFor(async () => {
      const p = (await s!.processes())['crash-at-start'];
      return p.status === 'failed' && p;
    }, 'the crash loop to be detected');
    expect(failed.statusReason).toContain('crashed 3 times');
    expect(failed.statusReason).toContain('exited with code 1 before the handshake');
    expect(failed.statusReason).toContain('cannot open /etc/frobnicator.conf');
    expect(failed.stderr).toContain('fatal: cannot open /etc/frobnicator.conf: no such file');
    expect(failed.restarts).toBe(2);
    expect(failed.pid).toBeNull();
    const mock = await byModule(s, 'github.com/flow/test/mock');
    expect(mock.status).toBe('running');
    await enable(s, mock);
    expect((await fetch(hookUrl(s, mock, 'echo'))).status).toBe(200);

    // An admin restart gives it a fresh crash budget (it fails again: the file did not change).
    const r = await s.api('POST', '/plugin/admin/processes/crash-at-start/restart', { auth: s.adminAuth });
    expect(r.status).toBe(200);
    expect(['starting', 'restarting', 'failed']).toContain(r.body.status);
    expect((await s.api('POST', '/plugin/admin/processes/nope/restart', { auth: s.adminAuth })).status).toBe(404);
    const bob = await s.createUser('bob');
    expect((await s.api('GET', '/plugin/admin/processes', { auth: bob.auth })).status).toBe(403);
  });

  it('fails every in-flight call at once when the plugin dies mid-call, then restarts it and recovers', async () => {
    s = await startPluginServer(await pluginsDir(['crash-mid-call']));
    const conf = await byModule(s, 'github.com/flow/test/crash-mid-call');
    await enable(s, conf);
    const first = (await (await fetch(hookUrl(s, conf, 'ok'))).json()) as any;
    // Several calls in flight when it dies: all of them fail with 503, none waits for a deadline.
    // Webhook callers are anonymous: they get the state, not the exit status or stderr lines.
    const inflight = [fetch(hookUrl(s, conf, 'crash')), fetch(hookUrl(s, conf, 'crash')), fetch(hookUrl(s, conf, 'crash'))];
    for (const res of await Promise.all(inflight)) {
      expect(res.status).toBe(503);
      const { errorDescription } = (await res.json()) as any;
      expect(errorDescription).toMatch(/^plugin crash mid call is not available \((restarting|running)\)$/);
    }
    const back = await waitFor(async () => {
      const r = await fetch(hookUrl(s!, conf, 'ok'));
      return r.status === 200 && ((await r.json()) as any);
    }, 'the plugin to be back');
    expect(back.pid).not.toBe(first.pid);
    const proc = (await s.processes())['crash-mid-call'];
    expect(proc).toMatchObject({ status: 'running', restarts: 1, instances: 1 });
    expect(proc.lastError).toContain('about to crash in the middle of a call');
    expect((await byModule(s, 'github.com/flow/test/crash-mid-call')).enabled).toBe(true);
  });

  it('recreates, reconfigures and re-enables instances after the plugin is SIGKILLed', async () => {
    s = await startPluginServer(await pluginsDir(['mock']));
    const conf = await byModule(s, 'github.com/flow/test/mock');
    expect((await s.api('POST', `/plugin/${conf.id}/config`, { auth: s.adminAuth, body: 'testkey: survives\n' })).status).toBe(200);
    await enable(s, conf);
    const { pid } = (await (await fetch(hookUrl(s, conf, 'pid'))).json()) as any;
    process.kill(pid, 'SIGKILL');
    const echo = await waitFor(async () => {
      const r = await fetch(hookUrl(s!, conf, 'echo'));
      return r.status === 200 && ((await r.json()) as any);
    }, 'the restarted plugin');
    expect(echo).toMatchObject({ testkey: 'survives', enabled: true });
    const proc = (await s.processes()).mock;
    expect(proc.pid).not.toBe(pid);
    expect(proc.lastError).toContain('was killed by SIGKILL');
  });

  it('answers 504 for a plugin that never replies, cancels the call, and nothing else waits for it', async () => {
    s = await startPluginServer(await pluginsDir(['hang', 'mock']), { 'plugins.webhooktimeoutms': 1500, 'plugins.calltimeoutms': 1500 });
    const hang = await byModule(s, 'github.com/flow/test/hang');
    const mock = await byModule(s, 'github.com/flow/test/mock');
    await enable(s, hang);
    await enable(s, mock);
    let settled = false;
    const stuck = fetch(hookUrl(s, hang, 'anything')).then((r) => {
      settled = true;
      return r;
    });
    const stuckDisplay = s.api('GET', `/plugin/${hang.id}/display`, { auth: s.adminAuth });
    // While the hanging calls are pending: other plugins, the REST API and the same plugin's other calls answer.
    expect((await fetch(hookUrl(s, mock, 'echo'))).status).toBe(200);
    expect((await s.api('GET', '/plugin', { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('POST', `/plugin/${mock.id}/disable`, { auth: s.adminAuth })).status).toBe(200);
    expect((await s.api('GET', '/health')).status).toBe(200);
    expect(settled).toBe(false);
    const res = await stuck;
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).errorDescription).toBe('the plugin did not answer webhook/request within 1500 ms');
    expect((await stuckDisplay).status).toBe(504);
    const cancels = (await (await fetch(hookUrl(s, hang, 'cancels'))).json()) as any;
    expect(cancels.cancels).toBe(2);
    expect((await s.processes()).hang.status).toBe('running');
  });

  it('never makes POST or DELETE /user wait for a plugin that does not answer', async () => {
    // The deadline is far beyond the test's timeout: answering at all proves nobody waited for it.
    s = await startPluginServer(await pluginsDir(['hang', 'mock']), { 'plugins.calltimeoutms': 600_000 });
    const hangy = await s.createUser('hangy'); // the hang plugin never answers instance/create for "hang…"
    const confs = await s.plugins(hangy.auth);
    expect(confs.map((p) => p.modulePath).sort()).toEqual(['github.com/flow/test/hang', 'github.com/flow/test/mock']);
    const mock = confs.find((p) => p.modulePath === 'github.com/flow/test/mock');
    expect((await s.api('POST', `/plugin/${mock.id}/enable`, { auth: hangy.auth })).status).toBe(200);

    const bob = await s.createUser('bob');
    const bobsHang = (await s.plugins(bob.auth)).find((p) => p.modulePath === 'github.com/flow/test/hang');
    expect((await s.api('POST', `/plugin/${bobsHang.id}/enable`, { auth: bob.auth })).status).toBe(200);
    expect((await s.api('DELETE', `/user/${bob.id}`, { auth: s.adminAuth })).status).toBe(200);
    const admins = (await s.plugins()).find((p) => p.modulePath === 'github.com/flow/test/hang');
    await s.api('POST', `/plugin/${admins.id}/enable`, { auth: s.adminAuth });
    // The plugin got instance/destroy (and will never answer it).
    await waitFor(async () => ((await (await fetch(hookUrl(s!, admins, 'cancels'))).json()) as any).destroys === 1, 'the destroy request');
  });

  it('marks a plugin speaking another protocol version incompatible, naming both versions', async () => {
    s = await startPluginServer(await pluginsDir(['wrong-protocol-version', 'needs-protocol-2', 'mock']));
    const procs = await s.processes();
    expect(procs['wrong-protocol-version']).toMatchObject({ status: 'incompatible', pid: null });
    expect(procs['wrong-protocol-version'].statusReason).toBe('protocol version mismatch: the plugin speaks 2.0, this server speaks 1.1');
    // A manifest's range is checked before anything is spawned.
    expect(procs['needs-protocol-2']).toMatchObject({ status: 'incompatible', pid: null, restarts: 0, stderr: [] });
    expect(procs['needs-protocol-2'].statusReason).toBe('the plugin needs protocol >=2.0 <3; this server speaks 1.1');
    expect(procs.mock.status).toBe('running');
  });

  it('restarts a plugin that writes garbage to stdout and logs what it wrote', async () => {
    s = await startPluginServer(await pluginsDir(['stdout-garbage']));
    const conf = await byModule(s, 'github.com/flow/test/stdout-garbage');
    await enable(s, conf);
    const first = (await (await fetch(hookUrl(s, conf, 'ok'))).json()) as any;
    const res = await fetch(hookUrl(s, conf, 'print'));
    expect(res.status).toBe(503);
    const back = await waitFor(async () => {
      const r = await fetch(hookUrl(s!, conf, 'ok'));
      return r.status === 200 && ((await r.json()) as any);
    }, 'the restarted plugin');
    expect(back.pid).not.toBe(first.pid);
    const proc = (await s.processes())['stdout-garbage'];
    expect(proc.restarts).toBe(1);
    expect(proc.lastError).toContain('broke the protocol on stdout');
    expect(proc.lastError).toContain('debug: got a webhook, printing to stdout by mistake');
  });

  it('refuses a second plugin with the same module path; the first keeps running', async () => {
    const dir = await pluginsDir(['mock']);
    s = await startPluginServer(dir);
    const mock = await byModule(s, 'github.com/flow/test/mock');
    await enable(s, mock);
    await linkFixture(dir, 'duplicate-module-path');
    const dup = await waitFor(async () => {
      const p = (await s!.processes())['duplicate-module-path'];
      return p?.status === 'failed' && p;
    }, 'the duplicate to be refused');
    expect(dup.statusReason).toBe(
      'duplicate module path: plugin with module path github.com/flow/test/mock is present at least twice; duplicate-module-path was refused and mock keeps running (remove one of them)',
    );
    expect(dup.pid).toBeNull();
    expect((await s.plugins()).map((p) => p.name)).toEqual(['mock plugin']);
    expect((await fetch(hookUrl(s, mock, 'echo'))).status).toBe(200);
  });

  it('fails the calls of a plugin that closes its stdout and keeps running, and restarts it', async () => {
    s = await startPluginServer(await pluginsDir(['closes-stdout']), { 'plugins.webhooktimeoutms': 600_000 });
    const conf = await byModule(s, 'github.com/flow/test/closes-stdout');
    await enable(s, conf);
    const first = (await (await fetch(hookUrl(s, conf, 'ok'))).json()) as any;
    const res = await fetch(hookUrl(s, conf, 'close'));
    expect(res.status).toBe(503);
    // The caller gets the state; the reason is for the admin endpoint.
    expect(((await res.json()) as any).errorDescription).not.toContain('closed its stdout but kept running');
    expect(await waitFor(async () => (await s!.processes())['closes-stdout'].lastError ?? undefined, 'the reason')).toContain('closed its stdout but kept running');
    const back = await waitFor(async () => {
      const r = await fetch(hookUrl(s!, conf, 'ok'));
      return r.status === 200 && ((await r.json()) as any);
    }, 'the restarted plugin');
    expect(back.pid).not.toBe(first.pid);
    expect(alive(first.pid)).toBe(false);
  });

  it('restarts a plugin whose event loop is stuck, found by the liveness ping', async () => {
    s = await startPluginServer(await pluginsDir(['busy-loop']), { 'plugins.pingintervalseconds': 1, 'plugins.pingtimeoutms': 300 });
    const conf = await byModule(s, 'github.com/flow/test/busy-loop');
    await enable(s, conf);
    const first = (await (await fetch(hookUrl(s, conf, 'ok'))).json()) as any;
    const stuck = await fetch(hookUrl(s, conf, 'spin'));
    expect(stuck.status).toBe(503);
    // The caller gets the state; the reason is for the admin endpoint.
    expect(((await stuck.json()) as any).errorDescription).not.toContain('did not answer ping within 300 ms');
    expect(await waitFor(async () => (await s!.processes())['busy-loop'].lastError ?? undefined, 'the reason')).toContain('did not answer ping within 300 ms');
    const back = await waitFor(async () => {
      const r = await fetch(hookUrl(s!, conf, 'ok'));
      return r.status === 200 && ((await r.json()) as any);
    }, 'the restarted plugin');
    expect(back.pid).not.toBe(first.pid);
    expect(alive(first.pid)).toBe(false);
  });

  it('lets the entry first by name win a module path when both start together', async () => {
    // 'duplicate-module-path' sorts before 'mock' and claims the same module path.
    s = await startPluginServer(await pluginsDir(['mock', 'duplicate-module-path']));
    const procs = await s.processes();
    expect(procs['duplicate-module-path'].status).toBe('running');
    expect(procs.mock.status).toBe('failed');
    expect(procs.mock.statusReason).toContain('mock was refused and duplicate-module-path keeps running');
    expect((await s.plugins()).map((p) => p.name)).toEqual(['impostor']);
  });

  it('marks a plugin that keeps crashing failed until an admin restarts it', async () => {
    s = await startPluginServer(await pluginsDir(['crash-mid-call']), { 'plugins.maxrestarts': 3 });
    const conf = await byModule(s, 'github.com/flow/test/crash-mid-call');
    await enable(s, conf);
    for (let crash = 0; crash < 3; crash++) {
      await waitFor(async () => (await s!.processes())['crash-mid-call'].status === 'running', 'the plugin to run');
      expect((await fetch(hookUrl(s, conf, 'crash'))).status).toBe(503);
    }
    const failed = await waitFor(async () => {
      const p = (await s!.processes())['crash-mid-call'];
      return p.status === 'failed' && p;
    }, 'the plugin to be marked failed');
    expect(failed.statusReason).toMatch(/^crashed 3 times within \d+ s: exited with code 7/);
    const down = await fetch(hookUrl(s, conf, 'ok'));
    expect(down.status).toBe(503);
    expect(((await down.json()) as any).errorDescription).toBe('plugin crash mid call is not available (failed)');
    expect((await byModule(s, 'github.com/flow/test/crash-mid-call')).status).toBe('failed');

    const restarted = await s.api('POST', '/plugin/admin/processes/crash-mid-call/restart', { auth: s.adminAuth });
    expect(restarted.body.status).toBe('running');
    expect((await fetch(hookUrl(s, conf, 'ok'))).status).toBe(200);
  });
});
