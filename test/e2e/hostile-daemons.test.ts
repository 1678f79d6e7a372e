import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST, alive, hookUrl, pluginsDir, startPluginServer, waitFor } from '../helpers/plugins.js';

const SERVER_ENTRY = fileURLToPath(new URL('../../server/dist/flow.js', import.meta.url));

// A daemon made by double fork + setsid leaves the plugin's process group, so a group kill
// misses it; the run id in its environment (FLOW_PLUGIN_RUN) still names the launch.
describe('plugins that daemonize', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  const leftovers: number[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    for (const pid of leftovers.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
  });

  const daemonOf = async (url: string) => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { pid: number; daemon: number };
    leftovers.push(answer.daemon);
    expect(alive(answer.daemon)).toBe(true);
    return answer;
  };

  it('kills what a plugin daemonized when it crashes and when the server stops', async () => {
    const s = await startPluginServer(await pluginsDir(['hostile-daemon', 'mock']));
    cleanup.push(() => s.close());
    const [conf] = (await s.plugins()).filter((p) => p.modulePath === 'github.com/flow/test/hostile-daemon');
    expect((await s.api('POST', `/plugin/${conf.id}/enable`, { auth: s.adminAuth })).status).toBe(200);
    const first = await daemonOf(hookUrl(s, conf, 'daemon'));
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => !alive(first.daemon), 'the daemon of the crashed process to be killed');
    const second = await waitFor(async () => {
      const r = await fetch(hookUrl(s, conf, 'daemon'));
      if (r.status !== 200) return false;
      const answer = (await r.json()) as { pid: number; daemon: number };
      leftovers.push(answer.daemon);
      return answer;
    }, 'the restarted plugin');
    expect(second.pid).not.toBe(first.pid);
    expect(alive(second.daemon)).toBe(true);
    // The other plugin's processes carry another run id: untouched.
    const mockPid = (await s.processes()).mock.pid;
    await s.close();
    cleanup.length = 0;
    // SIGKILL was sent before close() resolved; a process dies when the kernel next runs it.
    await waitFor(() => !alive(second.daemon), 'the daemon to die with the server');
    await waitFor(() => !alive(mockPid), 'the other plugin to stop with the server');
  });

  it('kills the daemons of a SIGKILLed server at its next start, and only its own', async () => {
    const dir = await pluginsDir(['hostile-daemon']);
    const data = await mkdtemp(path.join(tmpdir(), 'flow-test-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }), () => rm(data, { recursive: true, force: true }));
    const script = `
      const { startFlow } = await import(${JSON.stringify(SERVER_ENTRY)});
      const flow = await startFlow({ quiet: true, config: ${JSON.stringify({ ...FAST, 'server.listenaddr': '127.0.0.1', 'server.port': 0, datadir: data, passstrength: 4, pluginsdir: dir })} });
      const auth = { authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64') };
      const [conf] = await (await fetch(flow.url + '/plugin', { headers: auth })).json();
      await fetch(flow.url + '/plugin/' + conf.id + '/enable', { method: 'POST', headers: auth });
      console.log(await (await fetch(flow.url + '/plugin/' + conf.id + '/custom/' + conf.token + '/daemon')).text());
    `;
    const server = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => void server.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const { pid, daemon } = JSON.parse(line) as { pid: number; daemon: number };
    leftovers.push(daemon);
    // A process another server's plugin left (another data dir, so another tag).
    const foreign = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: { ...process.env, FLOW_PLUGIN_RUN: '0123456789ab.1.1' } });
    cleanup.push(() => void foreign.kill('SIGKILL'));
    const serverGone = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    // Its data dir lock is free once the whole process is reaped.
    await serverGone;
    // The plugin dies with the server (parent-death signal); its daemon does not.
    await waitFor(() => !alive(pid), 'the plugin to die with its server');
    expect(alive(daemon)).toBe(true);
    const s = await startPluginServer(dir, {}, data);
    cleanup.push(() => s.close());
    await waitFor(() => !alive(daemon), 'the next start to kill the daemon');
    expect(alive(foreign.pid!)).toBe(true);
  });
});
