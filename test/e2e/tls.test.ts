import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { makeCert, type TestCert } from '../helpers/certs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const BIN = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'flow-tls-'));
  dirs.push(d);
  return d;
}

async function writePair(dir: string, pair: TestCert): Promise<{ certfile: string; certkey: string }> {
  const certfile = path.join(dir, 'cert.pem');
  const certkey = path.join(dir, 'key.pem');
  // As a renewal does: new files renamed into place, key first.
  await writeFile(certkey + '.new', pair.key);
  await writeFile(certfile + '.new', pair.cert);
  await rename(certkey + '.new', certkey);
  await rename(certfile + '.new', certfile);
  return { certfile, certkey };
}

/** A request over TLS, verifying the server certificate against `ca` and the host name 127.0.0.1. */
function httpsGet(url: string, ca: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false, method: opts.method, headers: opts.headers }, (res) => {
      const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, fingerprint }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function httpCall(url: string, method = 'GET'): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('TLS (server.ssl.*)', () => {
  let s: TestServer;
  let certDir: string;
  let first: TestCert;

  beforeAll(async () => {
    first = await makeCert();
    certDir = await tempDir();
    const files = await writePair(certDir, first);
    s = await startTestServer({
      config: { 'server.ssl.enabled': true, 'server.ssl.port': 0, 'server.ssl.listenaddr': '127.0.0.1', 'server.ssl.certfile': files.certfile, 'server.ssl.certkey': files.certkey },
    });
  });
  afterAll(async () => {
    await s?.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('serves the API over HTTPS with the configured certificate, which a verifying client accepts', async () => {
    expect(s.flow.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await httpsGet(s.flow.httpsUrl + '/health', first.cert);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ health: 'green', database: 'green' });
    expect(r.fingerprint).toBe(fingerprintOf(first.cert));
    // A client that does not trust the certificate refuses it: the check is real.
    const other = await makeCert();
    await expect(httpsGet(s.flow.httpsUrl + '/health', other.cert)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('carries /stream over wss', async () => {
    const json = { Authorization: s.adminAuth, 'Content-Type': 'application/json' };
    const client = JSON.parse((await httpsGet(s.flow.httpsUrl + '/client', first.cert, { method: 'POST', headers: json, body: '{"name":"tls"}' })).body);
    const app = JSON.parse((await httpsGet(s.flow.httpsUrl + '/application', first.cert, { method: 'POST', headers: json, body: '{"name":"tls"}' })).body);
    const ws = new WebSocket(s.flow.httpsUrl!.replace(/^https/, 'wss') + '/stream?token=' + client.token, { ca: first.cert });
    const received = new Promise<any>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d))));
      ws.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const posted = await httpsGet(s.flow.httpsUrl + '/message', first.cert, { method: 'POST', headers: { 'X-Gotify-Key': app.token, 'Content-Type': 'application/json' }, body: '{"message":"over tls"}' });
    expect(posted.status).toBe(200);
    expect((await received).message).toBe('over tls');
    ws.close();
  });

  it('redirects plain HTTP GETs to HTTPS and refuses other methods (redirecttohttps, default on)', async () => {
    const get = await httpCall(s.url + '/message?limit=1');
    expect(get.status).toBe(302);
    expect(get.location).toBe(`https://127.0.0.1:${s.flow.httpsPort}/message?limit=1`);
    const post = await httpCall(s.url + '/message', 'POST');
    expect(post.status).toBe(400);
    expect(post.body).toContain('Use HTTPS');
  });

  it('reloads the certificate when its files change, and keeps the old one when the new pair is bad', async () => {
    const second = await makeCert();
    // A key that does not match: logged and ignored, the running certificate stays.
    await writePair(certDir, { cert: second.cert, key: first.key });
    await writePair(certDir, second);
    let seen = '';
    await waitFor(async () => {
      seen = (await httpsGet(s.flow.httpsUrl + '/health', second.cert).catch(() => ({ fingerprint: '' }))).fingerprint;
      return seen === fingerprintOf(second.cert);
    }, 'the new certificate').catch(() => undefined);
    expect(seen).toBe(fingerprintOf(second.cert));
  });

  it('keeps plain HTTP serving the API when redirecttohttps is off', async () => {
    const pair = await makeCert();
    const files = await writePair(await tempDir(), pair);
    const t = await startTestServer({
      config: { 'server.ssl.enabled': true, 'server.ssl.port': 0, 'server.ssl.redirecttohttps': false, 'server.ssl.certfile': files.certfile, 'server.ssl.certkey': files.certkey },
    });
    try {
      expect((await httpCall(t.url + '/health')).status).toBe(200);
      expect((await httpsGet(t.flow.httpsUrl + '/health', pair.cert)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('flow bin: bad TLS settings and ports', () => {
  const children: ChildProcess[] = [];
  let blocker: Server | undefined;
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    blocker?.close();
    blocker = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  function run(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLOW_') && !k.startsWith('GOTIFY_')) env[k] = v;
      const child = spawn(process.execPath, [BIN, '--server-listenaddr', '127.0.0.1', '--server-port', '0', '--passstrength', '4', '--plugins-bundled', 'false', ...args], { cwd, env });
      children.push(child);
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.resume();
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  const ssl = (certfile: string, certkey: string) => ['--server-ssl-enabled', 'true', '--server-ssl-port', '0', '--server-ssl-certfile', certfile, '--server-ssl-certkey', certkey];

  it('exits 2 naming the file: missing, unreadable, expired, key not matching; writes nothing', { timeout: 180_000 }, async () => {
    const cwd = await tempDir();
    const good = await writePair(await tempDir(), await makeCert());
    const expired = await writePair(await tempDir(), await makeCert({ start: '20200101000000Z', end: '20200102000000Z' }));
    const otherKey = await writePair(await tempDir(), await makeCert());
    const folder = path.join(cwd, 'a-folder.pem');
    await mkdir(folder);
    const cases: [string[], RegExp][] = [
      [ssl(path.join(cwd, 'nope.pem'), good.certkey), /server\.ssl\.certfile: .*nope\.pem does not exist/],
      [ssl(good.certfile, folder), /server\.ssl\.certkey: cannot read .*a-folder\.pem/],
      [ssl(expired.certfile, expired.certkey), new RegExp(`certificate in ${expired.certfile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} expired on 2020-01-02`)],
      [ssl(good.certfile, otherKey.certkey), /server\.ssl\.certkey: the key in .*key\.pem does not match the certificate in .*cert\.pem/],
      [['--server-ssl-enabled', 'true'], /needs server\.ssl\.certfile and server\.ssl\.certkey/],
    ];
    for (const [args, message] of cases) {
      const r = await run(['--datadir', path.join(cwd, 'data'), ...args], cwd);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(cwd)).toEqual(['a-folder.pem']);
  });

  it("refuses Let's Encrypt at start with one line", async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, 'config.yml'), 'server:\n  ssl:\n    enabled: true\n    letsencrypt:\n      enabled: true\n      accepttos: true\n      hosts: [example.com]\n');
    const r = await run([], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/letsencrypt.*not supported: set server\.ssl\.certfile and server\.ssl\.certkey .*or use a reverse proxy/)]);
  });

  it('names the port and the key that sets it when the port is taken', { timeout: 120_000 }, async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    const cwd = await tempDir();
    let r = await run(['--server-port', String(port)], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`flow: port 127.0.0.1:${port} is already in use: stop the other server or choose another port (server.port, FLOW_SERVER_PORT or --server-port)`]);
    const pair = await writePair(await tempDir(), await makeCert());
    r = await run([...ssl(pair.certfile, pair.certkey), '--server-ssl-listenaddr', '127.0.0.1', '--server-ssl-port', String(port)], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`port 127.0.0.1:${port} is already in use`);
    expect(r.stderr).toContain('(server.ssl.port, FLOW_SERVER_SSL_PORT or --server-ssl-port)');
  });
});
