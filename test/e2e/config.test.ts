import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempCwd(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'flow-cfg-'));
  dirs.push(d);
  return d;
}

/** Env without inherited FLOW_* so the host's environment cannot leak into the test. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLOW_') && !k.startsWith('GOTIFY_')) env[k] = v;
  return { ...env, FLOW_PLUGINS_BUNDLED: 'false', ...extra };
}

/** Runs the bin to completion. */
function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env) });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the bin as a server; resolves with its URL from the "listening on" log line. */
function serve(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; exit: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--server-listenaddr', '127.0.0.1', '--passstrength', '4', ...args], { cwd, env: cleanEnv(env) });
    children.push(child);
    const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        if (line.includes(' listening on ')) resolve({ url: JSON.parse(line).url, child, exit });
      }
    });
    void exit.then((code) => reject(new Error(`flow exited with ${code} before listening: ${stderr}`)));
  });
}

const whoami = async (url: string, user: string, pass: string) =>
  (await fetch(url + '/current/user', { headers: { Authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') } })).status;

// Each case starts the real bin one to three times (module loading, LevelDB, listen, stop): a
// bound for a loaded machine, not a speed target (test/README.md, "Under load").
describe('flow bin: configuration', { timeout: 120_000 }, () => {
  it('--help lists every key with its env var', async () => {
    const r = await run(['--help'], await tempCwd());
    expect(r.code).toBe(0);
    for (const key of ['server.listenaddr', 'server.port', 'server.stream.pingperiodseconds', 'server.stream.allowedorigins', 'datadir', 'pluginsdir', 'defaultuser.name', 'defaultuser.pass', 'passstrength', 'limits.bodybytes', 'limits.imagebytes', 'server.cors.alloworigins', 'server.cors.allowmethods', 'server.cors.allowheaders']) {
      expect(r.stdout).toContain(key + ':');
    }
    for (const env of ['FLOW_SERVER_LISTENADDR', 'FLOW_SERVER_PORT', 'FLOW_DATADIR', 'FLOW_PLUGINSDIR', 'FLOW_DEFAULTUSER_NAME', 'FLOW_DEFAULTUSER_PASS', 'FLOW_PASSSTRENGTH', 'FLOW_LIMITS_BODYBYTES', 'FLOW_LIMITS_IMAGEBYTES', 'FLOW_SERVER_CORS_ALLOWORIGINS']) {
      expect(r.stdout).toContain(env);
    }
    expect(r.stdout).toContain('--server-port');
  });

  it.each([
    { name: 'flag', args: ['--server-port', 'abc'], env: {}, file: undefined, key: 'server.port' },
    { name: 'env', args: [], env: { FLOW_PASSSTRENGTH: '3' }, file: undefined, key: 'passstrength' },
    { name: 'env bool', args: [], env: { FLOW_REGISTRATION: 'maybe' }, file: undefined, key: 'registration' },
    { name: 'config.yml', args: [], env: {}, file: 'server:\n  port: 70000\n', key: 'server.port' },
    { name: 'config.yml type', args: [], env: {}, file: 'limits:\n  bodybytes: [1]\n', key: 'limits.bodybytes' },
    { name: 'regex', args: ['--server-stream-allowedorigins', '(unclosed'], env: {}, file: undefined, key: 'server.stream.allowedorigins' },
  ] as { name: string; args: string[]; env: Record<string, string>; file?: string; key: string }[])('rejects an invalid $name value: names the key, exits 2, writes nothing', async ({ args, env, file, key }) => {
    const cwd = await tempCwd();
    if (file) await writeFile(path.join(cwd, 'config.yml'), file);
    const r = await run(args, cwd, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`invalid value for ${key}`);
    expect((await readdir(cwd)).filter((f) => f !== 'config.yml')).toEqual([]);
  });

  it('rejects malformed YAML and a missing --config file with exit 2', async () => {
    const cwd = await tempCwd();
    await writeFile(path.join(cwd, 'config.yml'), 'server: [unclosed\n');
    const r = await run([], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config.yml is not valid YAML');
    const r2 = await run(['--config', 'nope.yml'], cwd);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('cannot read config file');
    expect(await readdir(cwd)).toEqual(['config.yml']);
  });

  it('applies config.yml < env < flags', async () => {
    const cwd = await tempCwd();
    await writeFile(path.join(cwd, 'config.yml'), 'server:\n  port: 0\ndatadir: d1\ndefaultuser:\n  name: fromfile\n  pass: pw\n');

    let srv = await serve([], cwd);
    expect(await whoami(srv.url, 'fromfile', 'pw')).toBe(200);
    srv.child.kill('SIGTERM');
    expect(await srv.exit).toBe(0);

    srv = await serve([], cwd, { FLOW_DATADIR: 'd2', FLOW_DEFAULTUSER_NAME: 'fromenv' });
    expect(await whoami(srv.url, 'fromenv', 'pw')).toBe(200);
    srv.child.kill('SIGINT');
    expect(await srv.exit).toBe(0);

    srv = await serve(['--datadir', 'd3', '--defaultuser-name', 'fromflag'], cwd, { FLOW_DATADIR: 'd2', FLOW_DEFAULTUSER_NAME: 'fromenv' });
    expect(await whoami(srv.url, 'fromflag', 'pw')).toBe(200);
    srv.child.kill('SIGTERM');
    expect(await srv.exit).toBe(0);

    expect((await readdir(cwd)).sort()).toEqual(['config.yml', 'd1', 'd2', 'd3']);
    expect((await readdir(path.join(cwd, 'd3'))).sort()).toEqual(['db', 'images', 'plugins']);
  });

  it('reads --config PATH instead of ./config.yml', async () => {
    const cwd = await tempCwd();
    await writeFile(path.join(cwd, 'config.yml'), 'defaultuser:\n  name: wrong\n');
    await writeFile(path.join(cwd, 'other.yml'), 'server:\n  port: 0\ndefaultuser:\n  name: other\n');
    const srv = await serve(['--config', 'other.yml'], cwd);
    expect(await whoami(srv.url, 'other', 'admin')).toBe(200);
    srv.child.kill('SIGTERM');
    expect(await srv.exit).toBe(0);
  });

  it('exits 1 with "data dir is in use" when another flow holds the data dir', async () => {
    const cwd = await tempCwd();
    const srv = await serve(['--server-port', '0'], cwd);
    const second = await run(['--server-port', '0', '--server-listenaddr', '127.0.0.1'], cwd);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('data dir is in use');
    expect(await whoami(srv.url, 'admin', 'admin')).toBe(200);
    srv.child.kill('SIGTERM');
    expect(await srv.exit).toBe(0);
  });
});
