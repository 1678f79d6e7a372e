import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  const d = await mkdtemp(path.join(tmpdir(), 'flow-start-'));
  dirs.push(d);
  return d;
}

interface Running {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves with the first line matching, waiting for more output as it comes. */
  waitFor(re: RegExp): Promise<string>;
  url: string;
}

/** Starts the bin with a clean environment (no FLOW_ or GOTIFY_ variables from the host) and waits for its start line. */
async function serve(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Running> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLOW_') && !k.startsWith('GOTIFY_')) clean[k] = v;
  const child = spawn(process.execPath, [BIN, '--server-listenaddr', '127.0.0.1', '--server-port', '0', '--passstrength', '4', '--plugins-bundled', 'false', ...args], {
    cwd,
    env: { ...clean, ...env },
  });
  children.push(child);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve(l: string): void }[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  const exited = new Promise<never>((_, reject) => child.on('close', (code) => reject(new Error(`flow exited with ${code}: ${stderr}`))));
  exited.catch(() => undefined);
  const waitFor = (re: RegExp) => {
    const hit = lines.find((l) => re.test(l));
    if (hit) return Promise.resolve(hit);
    return Promise.race([new Promise<string>((resolve) => waiters.push({ re, resolve })), exited]);
  };
  const startLine = await waitFor(/listening on/);
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(startLine)![1]!;
  return { child, lines, waitFor, url };
}

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

// Gotify 2.9's config.example.yml as a Gotify user has it, unchanged but for the port.
const GOTIFY_CONFIG = `server:
  keepaliveperiodseconds: 0
  listenaddr: ""
  port: 80
  ssl:
    enabled: false
    redirecttohttps: true
    listenaddr: ""
    port: 443
    certfile:
    certkey:
    letsencrypt:
      enabled: false
      accepttos: false
      cache: data/certs
      hosts:
        - mydomain.tld
  responseheaders:
    X-Custom-Header: "custom value"
  trustedproxies:
  cors:
    alloworigins:
      - ".+.example.com"
    allowmethods:
      - "GET"
      - "POST"
    allowheaders:
      - "Authorization"
  stream:
    pingperiodseconds: 45
    allowedorigins:
      - ".+.example.com"
database:
  dialect: sqlite3
  connection: data/gotify.db
defaultuser:
  name: admin
  pass: admin
passstrength: 10
uploadedimagesdir: data/images
pluginsdir: data/plugins
registration: false
`;

describe('flow bin: start line, default password, Gotify configuration, log format', { timeout: 120_000 }, () => {
  it('takes a Gotify config.yml and GOTIFY_* variables as they are, naming what it ignores in one warning', async () => {
    const cwd = await tempCwd();
    await writeFile(path.join(cwd, 'config.yml'), GOTIFY_CONFIG);
    const s = await serve([], cwd, { GOTIFY_DEFAULTUSER_NAME: 'boss', GOTIFY_DEFAULTUSER_PASS: 's3cret', GOTIFY_FUTURE_SETTING: 'x' });
    expect((await fetch(s.url + '/current/user', { headers: { Authorization: basic('boss', 's3cret') } })).status).toBe(200);
    const warnings = s.lines.filter((l) => l.includes('ignored settings'));
    expect(warnings).toHaveLength(1);
    const warning = JSON.parse(warnings[0]!);
    expect(warning.level).toBe(40);
    expect(warning.ignored).toEqual(['GOTIFY_FUTURE_SETTING (unknown variable)']);
    // Gotify's database keys are Flow's (database.dialect: leveldb | postgres); its sqlite3 keeps
    // Flow on LevelDB, with a warning saying how to bring the Gotify data over.
    expect(s.lines.filter((l) => /database\.dialect sqlite3 is Gotify's.*flow import gotify/.test(l))).toHaveLength(1);
    // The file's values are in force: Gotify's CORS regexes allow the configured origin.
    const cors = await fetch(s.url + '/version', { headers: { Origin: 'https://app.example.com' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    // So are its response headers, on every response.
    expect(cors.headers.get('x-custom-header')).toBe('custom value');
  });

  it('says where it listens in one human line and warns while the default admin keeps its initial password', async () => {
    const cwd = await tempCwd();
    const s = await serve(['--datadir', 'd'], cwd);
    const start = JSON.parse(await s.waitFor(/listening on/));
    expect(start.msg).toMatch(new RegExp(`^Flow \\d+\\.\\d+\\.\\d+ listening on ${s.url.replace(/\./g, '\\.')}, data in ${path.join(cwd, 'd')}$`));
    const warn = JSON.parse(await s.waitFor(/initial password/));
    expect(warn.level).toBe(40);
    expect(warn.msg).toContain('"admin"');
    expect(JSON.stringify(s.lines)).not.toContain('"admin:admin');

    const me = async (auth: string) => (await fetch(s.url + '/current/user', { headers: { Authorization: auth } })).json();
    expect(await me(basic('admin', 'admin'))).toEqual({ id: 1, name: 'admin', admin: true, defaultAdminPassword: true });
    // Non-admins never see the field.
    await fetch(s.url + '/user', { method: 'POST', headers: { Authorization: basic('admin', 'admin'), 'Content-Type': 'application/json' }, body: '{"name":"bob","pass":"bob-pw"}' });
    expect(await me(basic('bob', 'bob-pw'))).toEqual({ id: 2, name: 'bob', admin: false });
    const changed = await fetch(s.url + '/current/user/password', { method: 'POST', headers: { Authorization: basic('admin', 'admin'), 'Content-Type': 'application/json' }, body: '{"pass":"better"}' });
    expect(changed.status).toBe(200);
    // Once changed, the object is exactly Gotify's again.
    expect(await me(basic('admin', 'better'))).toEqual({ id: 1, name: 'admin', admin: true });
  });

  it('logs JSON when stdout is not a terminal, pretty lines with --log-format pretty', async () => {
    const json = await serve([], await tempCwd());
    expect(() => JSON.parse(json.lines[0]!)).not.toThrow();
    const pretty = await serve(['--log-format', 'pretty'], await tempCwd());
    const line = await pretty.waitFor(/listening on/);
    expect(() => JSON.parse(line)).toThrow();
    expect(line).toMatch(/INFO.*Flow \d+\.\d+\.\d+ listening on http:\/\/127\.0\.0\.1:\d+/);
  });

  it('flow --version prints the version that GET /version reports', async () => {
    const cwd = await tempCwd();
    const out = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, [BIN, '--version'], { cwd });
      let o = '';
      c.stdout.on('data', (d) => (o += d));
      c.on('close', () => resolve(o.trim()));
    });
    expect(out).toMatch(/^\d+\.\d+\.\d+$/);
    const s = await serve([], cwd);
    const v = await (await fetch(s.url + '/version')).json();
    expect(v).toMatchObject({ version: '2.9.1', commit: `flow-${out}` });
  });
});
