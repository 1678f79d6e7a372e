import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, hookUrl, linkFixture, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

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
    // Cleared before the check: a process left alive fails its own test, not every later one.
    const seen = [...pids];
    pids.clear();
    for (const pid of seen) expect(alive(pid), `plugin process ${pid} still alive after close`).toBe(false);
  });

  const byModule = async (srv: PluginServer, name: string, auth?: string) => (await srv.plugins(auth)).find((p) => p.modulePath === `github.com/flow/test/${name}`);
  const enable = (srv: PluginServer, conf: any, auth = srv.adminAuth) => srv.api('POST', `/plugin/${conf.id}/enable`, { auth });

  // 48 MB of frames through a pipe: on a busy machine this takes a minute (the bound, not a speed target).
  it('refuses calls to a plugin whose input backs up, then restarts it when it stays stuck, freeing the backlog', { timeout: 120_000 }, async () => {
    s = await startPluginServer(await pluginsDir(['hostile-deaf', 'mock']), {
      'plugins.maxframebytes': 1024 * 1024,
      'plugins.webhooktimeoutms': 20_000,
      'plugins.pingtimeoutms': 300,
    });
    const deaf = await byModule(s, 'hostile-deaf');
    const mock = await byModule(s, 'mock');
    expect((await enable(s, deaf)).status).toBe(200);
    expect((await enable(s, mock)).status).toBe(200);
    const first = (await s.processes())['hostile-deaf'].pid;
    pids.add(first);
    const deafCall = fetch(hookUrl(s, deaf, 'go-deaf'));
    await waitFor(async () => (await s!.processes())['hostile-deaf'].stderr.includes('not reading stdin any more'), 'the plugin to stop reading');
    // 40 webhooks of 900 KB each: about 48 MB of frames for a pipe that holds 64 KB.
    const body = Buffer.alloc(900 * 1024, 'b');
    const send = () => fetch(hookUrl(s!, deaf, 'echo'), { method: 'POST', body }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const hooks = Array.from({ length: 40 }, send);
    // Calls keep coming until the host gives up on the plugin: the first call over the 2 MB
    // bound is refused at once, and once the plugin stayed stuck past the ping deadline the
    // next call has it killed.
    const more: Promise<{ status: number; text: string }>[] = [];
    await waitFor(() => (more.push(send()), !alive(first)), 'the deaf process to be killed');
    // Queued calls fail then, long before their 20 s deadline: none waits for it. (Calls that
    // reach the host after the restart are answered by the new process.)
    expect((await deafCall).status).toBe(503);
    const results = await Promise.all([...hooks, ...more]);
    expect(results.some((r) => r.status === 503 && r.text.includes('is not reading its input'))).toBe(true);
    expect(results.every((r) => r.status === 503 || r.status === 200)).toBe(true);
    const proc = await waitFor(async () => {
      const p = (await s!.processes())['hostile-deaf'];
      return p.status === 'running' && p.pid !== first && p;
    }, 'the deaf plugin to be restarted');
    expect(proc.lastError).toMatch(/stopped reading its stdin \(\d+ bytes waiting for over 300 ms\)/);
    expect((await fetch(hookUrl(s, mock, 'echo'))).status).toBe(200);
  });

  it('leaves a busy plugin that catches up alone: calls over the bound are refused, the rest answered', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-deaf']), { 'plugins.maxframebytes': 1024 * 1024, 'plugins.webhooktimeoutms': 20_000 });
    const deaf = await byModule(s, 'hostile-deaf');
    expect((await enable(s, deaf)).status).toBe(200);
    const { pid } = (await (await fetch(hookUrl(s, deaf, 'echo'))).json()) as any;
    pids.add(pid);
    const busy = fetch(hookUrl(s, deaf, 'busy?ms=3000'));
    await waitFor(async () => (await s!.processes())['hostile-deaf'].stderr.some((l: string) => l.startsWith('busy until')), 'the plugin to be busy');
    const body = Buffer.alloc(900 * 1024, 'b');
    const statuses = await Promise.all(Array.from({ length: 10 }, () => fetch(hookUrl(s!, deaf, 'echo'), { method: 'POST', body }).then((r) => r.status)));
    expect((await busy).status).toBe(200);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    expect(statuses.every((st) => st === 200 || st === 503)).toBe(true);
    expect((await s.processes())['hostile-deaf']).toMatchObject({ pid, restarts: 0, status: 'running' });
  });

  it('drops fan-out to a subscriber that stopped reading and restarts it, while every message is stored', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-deaf']), { 'plugins.maxframebytes': 64 * 1024, 'plugins.webhooktimeoutms': 500, 'plugins.pingtimeoutms': 200 });
    const deaf = await byModule(s, 'hostile-deaf');
    expect((await enable(s, deaf)).status).toBe(200);
    const first = (await s.processes())['hostile-deaf'].pid;
    pids.add(first);
    expect((await fetch(hookUrl(s, deaf, 'go-deaf'))).status).toBe(504);
    const app = await s.createApp({ name: 'busy' });
    const big = 'm'.repeat(16 * 1024);
    let posted = 0;
    // Messages keep arriving; each is stored and answered whatever the subscriber does.
    await waitFor(async () => {
      expect((await s!.api('POST', '/message', { token: app.token, json: { message: big } })).status).toBe(200);
      posted++;
      return !alive(first);
    }, 'the deaf subscriber to be killed');
    await waitFor(async () => (await s!.processes())['hostile-deaf'].status === 'running', 'the subscriber to be back');
    expect((await s.api('GET', `/application/${app.id}/message?limit=200`, { auth: s.adminAuth })).body.messages).toHaveLength(posted);
  });

  // Hundreds of 3 MB answers held back: close to a minute on a busy machine (the bound, not a speed target).
  it('holds back large answers to a plugin that asks for them without reading: memory stays bounded, then it is restarted', { timeout: 120_000 }, async () => {
    s = await startPluginServer(await pluginsDir(['hostile-caller']), { 'plugins.webhooktimeoutms': 3000, 'plugins.pingintervalseconds': 1, 'plugins.pingtimeoutms': 500 });
    const conf = await byModule(s, 'hostile-caller');
    expect((await enable(s, conf)).status).toBe(200);
    const { pid } = (await (await fetch(hookUrl(s, conf, 'ok'))).json()) as any;
    pids.add(pid);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    // 300 storage/load of a 3 MB blob, then the plugin stops reading: 1.2 GB of answers if all were made at once.
    const res = await fetch(hookUrl(s, conf, 'load-flood?n=300&mb=3'));
    expect([503, 504]).toContain(res.status);
    // Bounds against a hang (the test's own is 120 s), not speed: see test/README.md "Under load".
    await waitFor(() => !alive(pid), 'the plugin that stopped reading to be killed', 60_000);
    clearInterval(sampler);
    expect(peak - before).toBeLessThan(600 * 1024 * 1024);
    const proc = await waitFor(async () => {
      const p = (await s!.processes())['hostile-caller'];
      return p.status === 'running' && p;
    }, 'the plugin to be back', 60_000);
    // When the 3 MB loads arrive slowly (on PostgreSQL, or on a machine whose cores are busy) the
    // ping deadline may pass before the backlog reaches its bound: the plugin is then restarted
    // as unresponsive. Either way it is the host that ended it, for not reading.
    expect(proc.lastError).toMatch(/stopped reading its stdin|did not answer ping/);
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

  it('treats a plugin that never answers instance/create while starting as hung: one deadline, not one per user', async () => {
    const dir = await pluginsDir(['mock']);
    s = await startPluginServer(dir, { 'plugins.calltimeoutms': 500, 'plugins.startconcurrency': 1, 'plugins.maxrestarts': 2 });
    for (let i = 0; i < 8; i++) await s.createUser(`user${i}`);
    await linkFixture(dir, 'hostile-hang-create');
    const failed = await waitFor(async () => {
      const p = (await s!.processes())['hostile-hang-create'];
      return p?.status === 'failed' && p;
    }, 'the hanging plugin to be failed');
    expect(failed.statusReason).toMatch(/^crashed 2 times within \d+ s: hung while its instances were created: the plugin did not answer instance\/create within 500 ms/);
    // Each start waited for one user's instance/create, not for all nine in turn.
    expect(readFileSync(path.join(dir, '.hang-create'), 'utf8').trim().split('\n')).toEqual(['start', 'create', 'start', 'create']);
    expect((await s.processes()).mock).toMatchObject({ status: 'running', instances: 9 });
  });

  it('fails calls long before their deadline and restarts a plugin that closes its stdout but keeps running', async () => {
    s = await startPluginServer(await pluginsDir(['hostile-closes-stdout']), { 'plugins.webhooktimeoutms': 20_000 });
    const conf = await byModule(s, 'hostile-closes-stdout');
    expect((await enable(s, conf)).status).toBe(200);
    const { pid } = (await (await fetch(hookUrl(s, conf, 'pid'))).json()) as any;
    pids.add(pid);
    // Pending when the stream ends: fails then, not at its 20 s deadline.
    const res = await fetch(hookUrl(s, conf, 'close'));
    expect(res.status).toBe(503);
    await waitFor(() => !alive(pid), 'the process without stdout to be killed');
    const back = await waitFor(async () => {
      const r = await fetch(hookUrl(s!, conf, 'pid'));
      return r.status === 200 && ((await r.json()) as any);
    }, 'the plugin to be back');
    expect(back.pid).not.toBe(pid);
    expect((await s.processes())['hostile-closes-stdout'].lastError).toMatch(/closed its stdout/);
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
    const bob = await s.createUser('bob');
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
    // One process logs for every user's instance: GET /plugin shows its stderr lines to admins only.
    expect((await byModule(s, 'hostile-crash-on-enable'))!.statusReason).toBe(failed.statusReason);
    const bobs = (await byModule(s, 'hostile-crash-on-enable', bob.auth))!;
    expect(bobs.status).toBe('failed');
    expect(bobs.statusReason).toMatch(/^crashed 4 times within \d+ s: exited with code 2/);
    expect(bobs.statusReason).not.toContain('panic');
    expect(bobs.statusReason).not.toContain('stderr');
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
