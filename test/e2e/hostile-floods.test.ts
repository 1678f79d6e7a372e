import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, hookUrl, pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';

// A plugin that floods the host (test/fixtures/plugins/hostile-flood) through stdout or
// stderr: the host never buffers without bound, keeps answering the REST API and other
// plugins meanwhile, and ends or survives the flood with the reason visible.
describe('hostile plugins: floods', () => {
  let s: PluginServer;
  let flood: any;
  let mock: any;
  const seenPids = new Set<number>();
  beforeAll(async () => {
    s = await startPluginServer(await pluginsDir(['hostile-flood', 'mock']), {
      'plugins.webhooktimeoutms': 3000,
      'plugins.pingintervalseconds': 1,
      'plugins.pingtimeoutms': 1000,
      'plugins.stderrlines': 50,
      'plugins.maxrestarts': 10,
    });
    const list = await s.plugins();
    flood = list.find((p) => p.modulePath === 'github.com/flow/test/hostile-flood');
    mock = list.find((p) => p.modulePath === 'github.com/flow/test/mock');
    for (const conf of [flood, mock]) expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
  });
  afterAll(async () => {
    for (const p of Object.values(await s.processes())) if ((p as any).pid) seenPids.add((p as any).pid);
    await s.close();
    for (const pid of seenPids) expect(alive(pid)).toBe(false);
  });

  /** The REST API, the message store and another plugin all answer (each bounded, not timed). */
  const responsive = async () => {
    const opts = { signal: AbortSignal.timeout(5000) };
    expect((await fetch(`${s.url}/health`, opts)).status).toBe(200);
    expect((await fetch(`${s.url}/message`, { ...opts, headers: { authorization: s.adminAuth } })).status).toBe(200);
    expect((await fetch(hookUrl(s, mock, 'echo'), opts)).status).toBe(200);
  };
  const floodPid = async () => {
    const r = await fetch(hookUrl(s, flood, 'ok'));
    const pid = ((await r.json()) as any).pid as number;
    seenPids.add(pid);
    return pid;
  };
  const backUp = () => waitFor(async () => (await fetch(hookUrl(s, flood, 'ok'))).status === 200, 'the flood plugin to be back');
  const rssGrowth = (before: number) => process.memoryUsage().rss - before;

  it('kills and restarts a plugin that floods stdout with garbage; nothing of it is buffered', async () => {
    const pid = await floodPid();
    const rss = process.memoryUsage().rss;
    const res = await fetch(hookUrl(s, flood, 'garbage'));
    expect(res.status).toBe(503);
    await responsive();
    await waitFor(() => !alive(pid), 'the flooding process to be killed');
    await backUp();
    expect((await s.processes())['hostile-flood'].lastError).toMatch(/broke the protocol on stdout.*garbage garbage/);
    expect(rssGrowth(rss)).toBeLessThan(150 * 1024 * 1024);
  });

  it('kills a plugin whose header line never ends', async () => {
    const pid = await floodPid();
    const res = await fetch(hookUrl(s, flood, 'endless-header'));
    expect(res.status).toBe(503);
    await waitFor(() => !alive(pid), 'the process to be killed');
    await backUp();
    expect((await s.processes())['hostile-flood'].lastError).toMatch(/broke the protocol on stdout/);
  });

  it('restarts a plugin that sends thousands of well-framed invalid frames instead of answering each', async () => {
    const pid = await floodPid();
    const res = await fetch(hookUrl(s, flood, 'invalid-flood'));
    expect(res.status).toBe(503);
    await waitFor(() => !alive(pid), 'the process to be killed');
    await backUp();
    expect((await s.processes())['hostile-flood'].lastError).toMatch(/broke the protocol on stdout: Batches are not supported/);
  });

  it('skips a 2 GB frame unread and restarts the plugin once it stops answering pings', async () => {
    const pid = await floodPid();
    const rss = process.memoryUsage().rss;
    const pending = fetch(hookUrl(s, flood, 'huge-length'));
    // While the plugin pours its 2 GB into the host, everything else answers.
    await responsive();
    const res = await pending;
    expect([503, 504]).toContain(res.status);
    await waitFor(() => !alive(pid), 'the stuck process to be killed', 15_000);
    await backUp();
    expect((await s.processes())['hostile-flood'].lastError).toMatch(/did not answer ping/);
    expect(rssGrowth(rss)).toBeLessThan(150 * 1024 * 1024);
  });

  it('keeps a bounded stderr ring while a plugin writes megabytes of stderr, and keeps serving it', async () => {
    const pid = await floodPid();
    const rss = process.memoryUsage().rss;
    expect((await fetch(hookUrl(s, flood, 'stderr?mb=32'))).status).toBe(200);
    await responsive();
    expect((await fetch(hookUrl(s, flood, 'ok'))).status).toBe(200);
    const proc = await waitFor(async () => {
      const p = (await s.processes())['hostile-flood'];
      return p.stderr.includes('stderr flood done') && p;
    }, 'the end of the stderr flood');
    const { stderrBytes } = (await (await fetch(hookUrl(s, flood, 'ok'))).json()) as any;
    expect(stderrBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(proc.pid).toBe(pid);
    expect(proc.stderr.length).toBeLessThanOrEqual(50);
    for (const line of proc.stderr) expect(line.length).toBeLessThanOrEqual(2000);
    expect(rssGrowth(rss)).toBeLessThan(150 * 1024 * 1024);
  });
});
