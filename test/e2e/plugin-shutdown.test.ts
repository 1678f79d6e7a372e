import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST, alive, pluginsDir, startPluginServer, waitFor } from '../helpers/plugins.js';

const SERVER_ENTRY = fileURLToPath(new URL('../../server/dist/flow.js', import.meta.url));

/** Kernel start time of a process (field 22 of /proc/<pid>/stat), as the host records it. */
const startTime = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};

describe('plugin shutdown', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('stops every plugin when the server closes, escalating to SIGKILL for one that ignores the rest', async () => {
    const s = await startPluginServer(await pluginsDir(['mock', 'hang', 'ignores-stop']), { 'plugins.stoptimeoutms': 300 });
    cleanup.push(() => s.close());
    const procs = await s.processes();
    const pids = Object.values(procs).map((p: any) => p.pid as number);
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    await s.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('leaves no plugin process behind when the server itself is SIGKILLed', async () => {
    const dir = await pluginsDir(['mock', 'hang', 'ignores-stop']);
    const data = await mkdtemp(path.join(tmpdir(), 'flow-test-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }), () => rm(data, { recursive: true, force: true }));
    // A real server process: the test SIGKILLs it, so it cannot run in this one.
    const script = `
      const { startFlow } = await import(${JSON.stringify(SERVER_ENTRY)});
      const flow = await startFlow({ quiet: true, config: ${JSON.stringify({ ...FAST, 'server.listenaddr': '127.0.0.1', 'server.port': 0, datadir: data, passstrength: 4, pluginsdir: dir })} });
      const res = await fetch(flow.url + '/plugin/admin/processes', { headers: { authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64') } });
      console.log(JSON.stringify((await res.json()).map((p) => p.pid)));
    `;
    const server = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => void server.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const pids = JSON.parse(line) as number[];
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    server.kill('SIGKILL');
    await waitFor(() => pids.every((pid) => !alive(pid)), 'every plugin process to be gone', 5000);
  });

  it('kills plugin processes a crashed server left behind at the next start, never a recycled pid', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'flow-test-'));
    cleanup.push(() => rm(data, { recursive: true, force: true }));
    // Two stand-ins for leftovers: one recorded with its real start time, one with a wrong one.
    // The leftover is orphaned, as a crashed server's plugin is (its parent, the shell, is gone):
    // entries of this older pid-file format are only killed when their parent is gone too.
    const shell = spawn('sh', ['-c', 'sleep 300 >/dev/null 2>&1 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const leftoverPid = Number((await new Promise<string>((resolve) => shell.stdout.once('data', (d) => resolve(String(d))))).trim());
    const unrelated = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const killLeftover = () => {
      try {
        process.kill(leftoverPid, 'SIGKILL');
      } catch {
        // Gone already (the server killed it and its reaper collected it): what the test wants.
      }
    };
    cleanup.push(killLeftover, () => void unrelated.kill('SIGKILL'));
    await waitFor(() => alive(leftoverPid) && alive(unrelated.pid!), 'the sleep processes');
    await writeFile(
      path.join(data, 'plugin-pids.json'),
      JSON.stringify([
        { pid: leftoverPid, start: startTime(leftoverPid) },
        { pid: unrelated.pid, start: '1' },
      ]),
    );
    const s = await startPluginServer(await pluginsDir(['mock']), {}, data);
    cleanup.push(() => s.close());
    await waitFor(() => !alive(leftoverPid), 'the leftover to be killed');
    expect(alive(unrelated.pid!)).toBe(true);
    // Rewritten in the current format: this server as the owner, its own plugin as the only entry.
    const recorded = JSON.parse(readFileSync(path.join(data, 'plugin-pids.json'), 'utf8')) as { owner: { pid: number }; entries: { pid: number }[] };
    expect(recorded.owner.pid).toBe(process.pid);
    expect(recorded.entries.map((e) => e.pid)).toEqual([(await s.processes()).mock.pid]);
  });
});
