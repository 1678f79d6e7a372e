/**
 * The installable package, exactly as a user gets it: `npm run package` (npm pack of the
 * staged package) → `npm install -g <tarball>` into an empty prefix, offline → `flow` from an
 * empty folder. Slow (a build, an install): run by .ci/run through vitest.slow.config.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/plugins.js';
import { streamProcesses, streamRoundTrip } from '../helpers/streams.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let work: string;
let flowBin: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'flow-pkg-'));
  const out = execFileSync(process.execPath, [path.join(ROOT, 'scripts/package.mjs'), '--out', work, '--offline'], { encoding: 'utf8' });
  const tarball = out.trim().split('\n').pop()!;
  expect(path.basename(tarball)).toMatch(/^flow-server-\d+\.\d+\.\d+\.tgz$/);
  const prefix = path.join(work, 'prefix');
  await mkdir(prefix);
  execFileSync('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball], { cwd: work, stdio: 'pipe' });
  flowBin = path.join(prefix, 'bin', 'flow');
}, 1_500_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

/** Runs the installed `flow` in `cwd` (nothing from the checkout on its path) until its start line. */
function start(cwd: string, args: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const env: NodeJS.ProcessEnv = { PATH: `${path.dirname(flowBin)}:${process.env.PATH}`, HOME: process.env.HOME };
  const child = spawn('flow', ['--server-listenaddr', '127.0.0.1', '--server-port', '0', '--passstrength', '4', ...args], { cwd, env });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.on('close', (code) => reject(new Error(`flow exited with ${code}: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  child.kill('SIGTERM');
  return closed;
}

/** The plugins the package ships (scripts/package.mjs). */
const BUNDLED = ['alarm', 'clock', 'echo', 'github', 'notes', 'rss', 'webhook-forward'];
const admin = { Authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64') };

describe('npm pack → npm install -g → flow', () => {
  it('prints its version', () => {
    const pkg = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./server/package.json"))'], { cwd: ROOT, encoding: 'utf8' }));
    expect(execFileSync(flowBin, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
  });

  it('starts with its data in the current folder: API, web UI and the bundled plugins', async () => {
    const cwd = path.join(work, 'here');
    await mkdir(cwd);
    const { url, child } = await start(cwd);
    expect(await (await fetch(url + '/health')).json()).toMatchObject({ health: 'green', database: 'green' });
    const page = await fetch(url + '/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Flow</title>');
    let modules: string[] = [];
    await waitFor(async () => {
      modules = ((await (await fetch(url + '/plugin', { headers: admin })).json()) as any[]).map((p) => p.modulePath).sort();
      return modules.length === BUNDLED.length;
    }, 'the bundled plugins listed', 30_000).catch(() => undefined); // the assertion below names what is missing
    expect(modules).toEqual(BUNDLED.map((n) => `github.com/flow/plugins/${n}`));
    expect(await stop(child)).toBe(0);
    expect(readdirSync(path.join(cwd, 'data')).sort()).toEqual(expect.arrayContaining(['db', 'images', 'plugins']));
  });

  it('writes /stream from its stream process', async () => {
    const cwd = path.join(work, 'streams');
    await mkdir(cwd);
    const { url, child } = await start(cwd, ['--plugins-bundled', 'false']);
    const { posted, received, ws } = await streamRoundTrip(url, admin, 'from the package');
    expect(received).toEqual(posted);
    // The installed server started its stream process (not the in-server fallback).
    expect(await streamProcesses(child.pid!)).toHaveLength(1);
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    expect(await stop(child)).toBe(0);
    expect(await closed).toBe(1001);
  });

  it('keeps its data in --datadir', async () => {
    const cwd = path.join(work, 'elsewhere');
    await mkdir(cwd);
    const { url, child } = await start(cwd, ['--datadir', path.join(work, 'store')]);
    expect((await fetch(url + '/current/user', { headers: admin })).status).toBe(200);
    expect(await stop(child)).toBe(0);
    expect(existsSync(path.join(work, 'store', 'db'))).toBe(true);
    expect(existsSync(path.join(cwd, 'data'))).toBe(false);
  });
});
