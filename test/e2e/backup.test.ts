import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginsDir, startPluginServer, waitFor, type PluginServer } from '../helpers/plugins.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const BIN = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));
const REPO_PLUGINS = fileURLToPath(new URL('../../plugins/', import.meta.url));
const ECHO = 'github.com/flow/plugins/echo';
// 1×1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

function flow(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let live: PluginServer;
let work: string;
let app: any;
let client: any;
let echoConf: any;
let livePids: Record<string, number>;
/** Message ids acknowledged (200) before the backup request was sent. */
const ackedBefore: number[] = [];
let backupFile: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'flow-backup-'));
  const dir = await pluginsDir();
  await symlink(path.join(REPO_PLUGINS, 'echo'), path.join(dir, 'echo'));
  live = await startPluginServer(dir);
  await waitFor(async () => (await live.plugins()).length === 1, 'echo listed');
  app = await live.createApp({ name: 'backed up' });
  client = await live.createClient('phone');
  const form = new FormData();
  form.set('file', new Blob([PNG], { type: 'image/png' }), 'icon.png');
  expect((await live.api('POST', `/application/${app.id}/image`, { auth: live.adminAuth, body: form })).status).toBe(200);
  echoConf = (await live.plugins())[0];
  expect((await live.api('POST', `/plugin/${echoConf.id}/config`, { auth: live.adminAuth, body: 'magic_string: restored fine\n' })).status).toBe(200);
  expect((await live.api('POST', `/plugin/${echoConf.id}/enable`, { auth: live.adminAuth })).status).toBe(200);
  // Plugin storage: two hellos counted by the plugin.
  for (let i = 0; i < 2; i++) expect((await fetch(`${live.url}/plugin/${echoConf.id}/custom/${echoConf.token}/echo`)).status).toBe(200);
  livePids = Object.fromEntries(Object.values(await live.processes()).map((p: any) => [p.name, p.pid]));

  // Writers keep posting during the whole backup; the backup starts once some are acknowledged.
  let writing = true;
  let backupSent = false;
  const writer = async () => {
    while (writing) {
      const r = await live.api('POST', '/message', { token: app.token, json: { message: 'load' } });
      if (r.status !== 200) throw new Error(`POST /message: ${r.status}`);
      if (!backupSent) ackedBefore.push(r.body.id);
    }
  };
  const writers = [writer(), writer(), writer()];
  await waitFor(() => ackedBefore.length >= 50, '50 acknowledged messages');
  backupFile = path.join(work, 'flow.flowbak');
  backupSent = true;
  const r = await flow(['backup', backupFile, '--url', live.url], { FLOW_BACKUP_PASSWORD: 'admin' });
  writing = false;
  await Promise.all(writers);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
}, 120_000);

afterAll(async () => {
  await live?.close();
  await rm(work, { recursive: true, force: true });
});

describe('flow backup / flow restore', () => {
  it('restores next to the live server: a second server on it has every acknowledged message, token, image and plugin config', { timeout: 180_000 }, async () => {
    const target = path.join(work, 'restored');
    const restored = await flow(['restore', backupFile, '--datadir', target]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/^restored \d+ database entries and 1 files \(backup of Flow \d+\.\d+\.\d+, /);

    // Same plugins folder as the live server, another port.
    const second = await startTestServer({ dataDir: target, config: { pluginsdir: live.pluginsDir, 'plugins.startwaitms': 30_000 } });
    try {
      expect(second.port).not.toBe(live.port);
      const ids = new Set<number>();
      for (let since = 0; ; ) {
        const page = await second.api('GET', `/application/${app.id}/message?limit=200${since ? `&since=${since}` : ''}`, { auth: second.adminAuth });
        expect(page.status).toBe(200);
        for (const m of page.body.messages) ids.add(m.id);
        if (!page.body.paging.since || page.body.messages.length === 0) break;
        since = page.body.paging.since;
      }
      expect(ackedBefore.filter((id) => !ids.has(id))).toEqual([]);
      // Old tokens work: the application's to send, the client's to read.
      expect((await second.api('POST', '/message', { token: app.token, json: { message: 'after restore' } })).status).toBe(200);
      expect((await second.api('GET', '/current/user', { token: client.token })).status).toBe(200);
      const restoredApp = (await second.api('GET', '/application', { auth: second.adminAuth })).body.find((a: any) => a.id === app.id);
      const image = await fetch(`${second.url}/${restoredApp.image}`);
      expect(Buffer.from(await image.arrayBuffer())).toEqual(PNG);
      // Plugin config, enabled state, webhook token and storage (the third hello).
      const conf = await waitFor(async () => (await second.api('GET', '/plugin', { auth: second.adminAuth })).body.find((p: any) => p.modulePath === ECHO && p.enabled), 'echo enabled');
      expect((await second.api('GET', `/plugin/${conf.id}/config`, { auth: second.adminAuth })).text).toBe('magic_string: restored fine\n');
      const hook = await waitFor(async () => {
        const r = await fetch(`${second.url}/plugin/${echoConf.id}/custom/${echoConf.token}/echo`);
        return r.status === 200 && r;
      }, 'webhook answers');
      expect(await hook.text()).toBe('restored fine');
      const hello = await waitFor(async () => (await second.api('GET', '/message?limit=5', { auth: second.adminAuth })).body.messages.find((m: any) => m.title === 'Hello received' && m.message.includes('3 times')), 'third hello counted');
      expect(hello.message).toBe('echo server received a hello message 3 times');
    } finally {
      await second.close();
    }
    // The live server's plugins were untouched: same processes, still running.
    const procs = await live.processes();
    expect(Object.fromEntries(Object.values(procs).map((p: any) => [p.name, p.pid]))).toEqual(livePids);
    expect(Object.values(procs).every((p: any) => p.status === 'running')).toBe(true);
    expect((await live.api('GET', '/health')).status).toBe(200);
  });

  it('refuses a truncated backup, one from a newer version and a non-empty target, writing nothing', { timeout: 180_000 }, async () => {
    const whole = await readFile(backupFile);
    const truncated = path.join(work, 'truncated.flowbak');
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length * 0.7)));
    const newer = path.join(work, 'newer.flowbak');
    const lines = whole.toString('latin1').split('\n');
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), version: 99, flow: '9.0.0' });
    await writeFile(newer, Buffer.from(lines.join('\n'), 'latin1'));
    const damaged = path.join(work, 'damaged.flowbak');
    const flipped = Buffer.from(whole);
    flipped[Math.floor(flipped.length / 2)] ^= 0x20;
    await writeFile(damaged, flipped);

    for (const [file, reason] of [
      [truncated, /is truncated/],
      [newer, /format version 99 written by Flow 9\.0\.0, newer than this Flow supports \(1\): upgrade Flow first/],
      [damaged, /is damaged/],
    ] as const) {
      const target = path.join(work, 'never-' + path.basename(file));
      const r = await flow(['restore', file, '--datadir', target]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(reason) });
      expect(await readdir(target).catch(() => 'absent')).toBe('absent');
    }
    const full = path.join(work, 'full');
    await mkdir(full);
    await writeFile(path.join(full, 'keep.txt'), 'mine');
    const r = await flow(['restore', backupFile, '--datadir', full]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not empty');
    expect(await readdir(full)).toEqual(['keep.txt']);
  });

  it('refuses without admin credentials and never overwrites a file', { timeout: 180_000 }, async () => {
    let r = await flow(['backup', path.join(work, 'x.flowbak'), '--url', live.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FLOW_BACKUP_TOKEN');
    const bob = await live.createUser('bob');
    r = await flow(['backup', path.join(work, 'x.flowbak'), '--url', live.url], { FLOW_BACKUP_USER: 'bob', FLOW_BACKUP_PASSWORD: bob.pass });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('answered 403');
    r = await flow(['backup', backupFile, '--url', live.url], { FLOW_BACKUP_PASSWORD: 'admin' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('exists');
    expect((await readdir(work)).filter((f) => f.endsWith('.partial') || f === 'x.flowbak')).toEqual([]);
  });
});
