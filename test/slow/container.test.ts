/**
 * The container image, built and run with podman as a user runs it with Docker. There is no
 * image registry here, so the base image (Node 20 + npm + python3) is made from this Debian
 * host's installed packages by .ci/container-base.sh and passed as NODE_IMAGE; the Dockerfile is
 * otherwise the one users build. podman runs with runc and explicit ulimits (this machine's
 * crun and default limits do not work: see .ci/run). The container uses the host network, so
 * the test picks a free port and passes it as FLOW_SERVER_PORT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/plugins.js';
import { streamRoundTrip } from '../helpers/streams.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PODMAN = ['--runtime', '/usr/sbin/runc'];
const LIMITS = ['--ulimit', 'nofile=10000:10000', '--ulimit', 'nproc=1000:1000'];
const IMAGE = 'localhost/flow-test:latest';
const NAME = `flow-test-${process.pid}`;
const VOLUME = `flow-test-data-${process.pid}`;
let port: number;
let url: string;

const podman = (args: string[], timeout = 120_000) => execFileSync('podman', [...PODMAN, ...args], { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
/** The plugins the package ships (scripts/package.mjs). */
const BUNDLED = ['alarm', 'clock', 'echo', 'github', 'notes', 'rss', 'webhook-forward'];
const admin = { Authorization: 'Basic ' + Buffer.from('admin:container-pass').toString('base64') };

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const p = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

async function healthy(deadlineMs = 90_000): Promise<void> {
  const answers = () => fetch(url + '/health').then((r) => r.ok, () => false); // false: not listening yet
  await waitFor(answers, '/health from the container', deadlineMs).catch((err: Error) => {
    throw new Error(`${err.message}:\n${podman(['logs', NAME])}`);
  });
}

beforeAll(async () => {
  execFileSync(`${ROOT}.ci/container-base.sh`, ['localhost/flow-base:latest'], { stdio: 'pipe', timeout: 600_000 });
  // docker format: OCI images drop HEALTHCHECK. The base image carries this host's CA bundle; npm in the
  // build trusts it as the host's npm does
  // (a TLS-intercepting proxy on these machines).
  podman(['build', '--format', 'docker', '--network', 'host', ...LIMITS, '--build-arg', 'NODE_IMAGE=localhost/flow-base:latest', '--build-arg', 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', '-t', IMAGE, ROOT], 1_500_000);
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  podman(['volume', 'create', VOLUME]);
  podman([
    'run', '-d', '--name', NAME, '--network', 'host', ...LIMITS,
    '-e', `FLOW_SERVER_PORT=${port}`, '-e', 'FLOW_SERVER_LISTENADDR=127.0.0.1', '-e', 'GOTIFY_DEFAULTUSER_PASS=container-pass',
    '-v', `${VOLUME}:/app/data`, IMAGE,
  ]);
  await healthy();
}, 1_800_000);

afterAll(() => {
  for (const args of [['rm', '-f', '-t', '2', NAME], ['volume', 'rm', '-f', VOLUME], ['rmi', '-f', IMAGE]]) {
    try {
      podman(args);
    } catch {
      // already gone
    }
  }
});

describe('container image', () => {
  it('runs as a non-root user with its data in /app/data, and its HEALTHCHECK passes', { timeout: 300_000 }, () => {
    expect(podman(['exec', NAME, 'id', '-u'])).toBe('10001');
    expect(podman(['exec', NAME, 'ls', '/app/data'])).toMatch(/db/);
    expect(JSON.parse(podman(['image', 'inspect', '--format', '{{json .HealthCheck}}', IMAGE])).Test.join(' ')).toContain('/health');
    // Exits 0 only when the check passes (it runs the image's HEALTHCHECK command inside the
    // container); a loaded machine may need more than one try within the command's timeout.
    let last: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        podman(['healthcheck', 'run', NAME]);
        return;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  });

  it('runs the bundled plugins, Python included', async () => {
    let procs: any[] = [];
    await waitFor(async () => {
      procs = (await (await fetch(url + '/plugin/admin/processes', { headers: admin })).json()) as any[];
      return procs.length === BUNDLED.length && procs.every((p) => p.status === 'running');
    }, 'the bundled plugins running', 60_000).catch(() => undefined); // the assertion below names what is missing
    expect(procs.map((p) => [p.name, p.status]).sort()).toEqual(BUNDLED.map((n) => [n, 'running']));
    const echo = ((await (await fetch(url + '/plugin', { headers: admin })).json()) as any[]).find((p) => p.modulePath === 'github.com/flow/plugins/echo');
    expect((await fetch(`${url}/plugin/${echo.id}/enable`, { method: 'POST', headers: admin })).status).toBe(200);
    const hook = await fetch(`${url}/plugin/${echo.id}/custom/${echo.token}/echo`);
    expect(hook.status).toBe(200);
  });

  it('writes /stream from its stream process, niced below the server, as the same non-root user', async () => {
    const { posted, received, ws } = await streamRoundTrip(url, admin, 'through the container');
    expect(received).toEqual(posted);
    // `podman top` lists the container's processes: pid, ppid, comm, nice, user.
    const rows = podman(['top', NAME, 'pid', 'ppid', 'comm', 'nice', 'user']).split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const streams = rows.find((r) => r[2] === 'flow-streams');
    expect(streams, rows.join('\n')).toBeDefined();
    const server = rows.find((r) => r[0] === streams![1]);
    expect(server, rows.join('\n')).toBeDefined();
    expect(Number(streams![3])).toBe(Number(server![3]) + 5);
    expect(streams![4]).toBe(server![4]);
    ws.close();
  });

  it('keeps its data across a container restart', async () => {
    const app = (await (await fetch(url + '/application', { method: 'POST', headers: { ...admin, 'Content-Type': 'application/json' }, body: '{"name":"kept"}' })).json()) as any;
    expect((await fetch(`${url}/message?token=${app.token}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"message":"survives"}' })).status).toBe(200);
    podman(['restart', '-t', '10', NAME]);
    await healthy();
    const messages = (await (await fetch(url + '/message', { headers: admin })).json()) as any;
    expect(messages.messages.map((m: any) => m.message)).toContain('survives');
    expect((await fetch(`${url}/message?token=${app.token}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"message":"again"}' })).status).toBe(200);
  });
});
