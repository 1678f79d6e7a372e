import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

// Plugins that stall or die (test/fixtures/plugins/hostile-*): a stuck plugin costs only
// its own calls, each bounded by its deadline; the host kills what it started, grandchildren
// included; a crash loop backs off and ends in "failed" with the plugin's last words.
describe('hostile plugins: stallers and crashers', () => {
  let s: PluginServer | undefined;
  const pids = new Set<number>();
  afterEach(async () => {
    if (s) for (const p of Object.values(await s.processes())) if ((p as any).pid) pids.add((p as any).pid);
    await s?.close();
    s = undefined;
    for (const pid of pids) expect(alive(pid)).toBe(false);
    pids.clear();
  });

  const byModule = async (srv: PluginServer, name: string, auth?: string) => (await srv.plugins(auth)).find((p) => p.modulePath === `github.com/flow/test/${name}`);
  const enable = (srv: PluginServer, conf: any, auth = srv.adminAuth) => srv.api('POST', `/plugin/${conf.id}/enable`, { auth });

  it('restarts a plugin that stops reading stdin once the host\'s writes to it back up, and frees them', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-deaf', 'mock']), { 'plugins.maxframebytes': 1024 * 1024, 'plugins.webhooktimeoutms': 20_000 });
    const deaf = await byModule(s, 'hostile-deaf');
    const mock = await byModule(s, 'mock');
    expect((await enable(s, deaf)).status).toBe(200);
    expect((await enable(s, mock)).status).toBe(200);
    const first = (await s.processes())['hostile-deaf'].pid;
    pids.add(first);
    // 40 webhooks of 900 KB each: about 48 MB of frames for a pipe that holds 64 KB.
    const body = Buffer.alloc(900 * 1024, 'b');
    const hooks = Array.from({ length: 40 }, () => fetch(hookUrl(s!, deaf, 'x'), { method: 'POST', body }).then((r) => r.status));
    const statuses = await Promise.all(hooks);
    // The backlog passed its bound long before the deadline: every call failed as "not running", none waited 20 s.
    expect(statuses.every((st) => st === 503)).toBe(true);
    await waitFor(() => !alive(first), 'the deaf process to be killed');
    const proc = await waitFor(async () => {
      const p = (await s!.processes())['hostile-deaf'];
      return p.status === 'running' && p.pid !== first && p;
    }, 'the deaf plugin to be restarted');
    expect(proc.lastError).toMatch(/stopped reading its stdin \(\d+ bytes waiting\)/);
    expect((await fetch(hookUrl(s, mock, 'echo'))).status).toBe(200);
  });

  it('stops fanning messages out to a subscriber that stopped reading, without waiting for a ping', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-deaf']), { 'plugins.maxframebytes': 64 * 1024, 'plugins.webhooktimeoutms': 500 });
    const deaf = await byModule(s, 'hostile-deaf');
    expect((await enable(s, deaf)).status).toBe(200);
    const first = (await s.processes())['hostile-deaf'].pid;
    pids.add(first);
    expect((await fetch(hookUrl(s, deaf, 'go-deaf'))).status).toBe(504);
    const app = await s.createApp({ name: 'busy' });
    const big = 'm'.repeat(16 * 1024);
    // Messages keep arriving; each is stored and answered whatever the subscriber does.
    for (let i = 0; i < 40; i++) expect((await s.api('POST', '/message', { token: app.token, json: { message: big } })).status).toBe(200);
    await waitFor(async () => !alive(first) && (await s!.processes())['hostile-deaf'].status === 'running', 'the deaf subscriber to be restarted');
    expect((await s.api('GET', '/message?limit=100', { auth: s.adminAuth })).body.messages).toHaveLength(40);
  });

  it('answers 504 for an enable the plugin never answers; other users and plugins are not held up', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-hang-enable', 'mock']), { 'plugins.calltimeoutms': 1500 });
    const bob = await s.createUser('bob');
    const adminConf = await byModule(s, 'hostile-hang-enable');
    const bobConf = await byModule(s, 'hostile-hang-enable', bob.auth);
    const mock = await byModule(s, 'mock');
    let done = false;
    const stuck = enable(s, adminConf).then((r) => {
      done = true;
      return r;
    });
    expect((await enable(s, bobConf, bob.auth)).status).toBe(200);
    expect((await enable(s, mock)).status).toBe(200);
    expect(((await (await fetch(hookUrl(s, bobConf, 'who'))).json()) as any).user).toBe('bob');
    expect(done).toBe(false);
    const res = await stuck;
    expect(res.status).toBe(504);
    expect(res.body.errorDescription).toBe('the plugin did not answer instance/enable within 1500 ms');
    expect((await byModule(s, 'hostile-hang-enable')).enabled).toBe(false);
    expect((await fetch(hookUrl(s, adminConf, 'who'))).status).toBe(400);
    expect((await s.processes())['hostile-hang-enable'].status).toBe('running');
  });

  it('kills the whole process group: grandchildren go with a plugin that ignores every stop signal', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-forker']), { 'plugins.stoptimeoutms': 200 });
    const conf = await byModule(s, 'hostile-forker');
    expect((await enable(s, conf)).status).toBe(200);
    const first = (await (await fetch(hookUrl(s, conf, 'pids'))).json()) as any;
    for (const pid of [first.pid, ...first.children]) expect(alive(pid)).toBe(true);
    // A crash of the leader: its grandchildren do not survive into the next generation.
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => [first.pid, ...first.children].every((pid: number) => !alive(pid)), 'the first generation to be gone');
    const second = await waitFor(async () => {
      const r = await fetch(hookUrl(s!, conf, 'pids'));
      return r.status === 200 && ((await r.json()) as any);
    }, 'the restarted forker');
    const all = [second.pid, ...second.children] as number[];
    for (const pid of all) expect(alive(pid)).toBe(true);
    // Server stop: shutdown unanswered, exit, EOF and SIGTERM ignored, then SIGKILL of the group.
    await s.close();
    s = undefined;
    for (const pid of all) expect(alive(pid)).toBe(false);
    expect(existsSync('/proc/' + second.pid)).toBe(false);
  });

  it('backs off a plugin that crashes on every enable and marks it failed with its last stderr lines', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-crash-on-enable', 'mock']), {
      'plugins.maxrestarts': 4,
      'plugins.restartbackoffbasems': 100,
      'plugins.restartbackoffmaxms': 400,
    });
    const spawns = path.join(s.pluginsDir, '.spawns');
    const conf = await byModule(s, 'hostile-crash-on-enable');
    expect((await enable(s, conf)).status).toBe(200);
    const { pid } = (await (await fetch(hookUrl(s, conf, 'pid'))).json()) as any;
    // From now on enable crashes; the stored state says enabled, so every restart re-enables it.
    await writeFile(path.join(s.pluginsDir, '.armed'), '');
    const started = readFileSync(spawns, 'utf8').trim().split('\n').length;
    expect(started).toBe(1);
    process.kill(pid, 'SIGKILL');
    const failed = await waitFor(async () => {
      const p = (await s!.processes())['hostile-crash-on-enable'];
      return p.status === 'failed' && p;
    }, 'the crash loop to end in failed');
    expect(failed.statusReason).toMatch(/^crashed 4 times within \d+ s: exited with code 2/);
    expect(failed.statusReason).toContain('panic: enable exploded');
    expect(failed.stderr).toContain('panic: enable exploded');
    expect(failed.pid).toBeNull();
    // 1 start + 3 restarts, each after a backoff of at least half its base (jitter), then no more.
    const times = readFileSync(spawns, 'utf8').trim().split('\n').map(Number);
    expect(times).toHaveLength(4);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(50);
    const res = await fetch(hookUrl(s, conf, 'pid'));
    expect(res.status).toBe(503);
    expect((await s.api('GET', '/health')).status).toBe(200);
    expect((await s.processes()).mock.status).toBe('running');
    // Still nothing new after another look: a failed plugin is not restarted behind the admin's back.
    await waitFor(async () => (await s!.processes())['hostile-crash-on-enable'].status === 'failed', 'failed to stay');
    expect(readFileSync(spawns, 'utf8').trim().split('\n')).toHaveLength(4);
  });
});
