import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { createLogger } from '@flow/server';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { streamProcesses } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';

const SERVER_ENTRY = fileURLToPath(new URL('../../server/dist/flow.js', import.meta.url));
const BIN = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A test server whose log lines are collected. */
async function loggedServer(opts: Parameters<typeof startTestServer>[0] = {}): Promise<{ s: TestServer; lines: any[] }> {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const s = await startTestServer({ ...opts, logger: createLogger({ level: 'info', destination: sink }) });
  cleanup.push(() => s.close());
  return { s, lines };
}

/** The one stream process this test's server started since `before` was listed. */
async function newStreamProcess(before: { pid: number }[]): Promise<{ pid: number; nice: number }> {
  return waitFor(async () => {
    const fresh = (await streamProcesses(process.pid)).filter((p) => !before.some((b) => b.pid === p.pid));
    return fresh.length === 1 ? fresh[0] : undefined;
  }, 'the stream process');
}

/** A logged server with one client's stream open, and the stream process that stream started. */
async function serverWithStream(opts: Parameters<typeof startTestServer>[0] = {}) {
  const { s, lines } = await loggedServer(opts);
  const before = await streamProcesses(process.pid);
  const client = await s.createClient('phone');
  const app = await s.createApp({ name: 'a' });
  const st = await s.openStream(client.token);
  const proc = await newStreamProcess(before);
  return { s, lines, before, client, app, st, proc };
}

describe('the stream process', { timeout: 60_000 }, () => {
  it('is started with the first stream, niced 5 below the server, and writes every message of its streams', async () => {
    const { s } = await loggedServer();
    const before = await streamProcesses(process.pid);
    const client = await s.createClient('phone');
    const app = await s.createApp({ name: 'a' });
    await s.api('POST', '/message', { token: app.token, json: { message: 'no stream yet' } });
    expect((await streamProcesses(process.pid)).length).toBe(before.length);

    const a = await s.openStream(client.token);
    const b = await s.openStream(client.token);
    const proc = await newStreamProcess(before);
    expect(proc.nice).toBe(Math.min(19, getPriority() + 5));
    const sent = [];
    for (let i = 0; i < 20; i++) sent.push((await s.api('POST', '/message', { token: app.token, json: { message: `m${i}` } })).body);
    for (const st of [a, b]) for (const m of sent) expect(await st.next()).toEqual(m);
    // Still one process for both streams.
    expect((await streamProcesses(process.pid)).length).toBe(before.length + 1);
  });

  it('is not used with server.stream.writerprocess off', async () => {
    const { s } = await loggedServer({ config: { 'server.stream.writerprocess': false } });
    const before = await streamProcesses(process.pid);
    const st = await s.openStream((await s.createClient('phone')).token);
    const app = await s.createApp({ name: 'a' });
    const m = await s.api('POST', '/message', { token: app.token, json: { message: 'in process' } });
    expect(await st.next()).toEqual(m.body);
    expect(await streamProcesses(process.pid)).toEqual(before);
  });

  it('killed, loses only its streams: they close, the server goes on, the next stream starts a new one', async () => {
    const { s, lines, before, client, app, st, proc: first } = await serverWithStream();

    process.kill(first.pid, 'SIGKILL');
    expect(await st.closed).toBe(1006);
    await waitFor(() => s.flow.app.hub.count() === 0, 'the hub to drop the lost stream');
    const crash = await waitFor(() => lines.find((l) => l.msg === 'the stream process exited; its streams were closed'), 'the crash log line');
    expect(crash).toMatchObject({ level: 50, signal: 'SIGKILL', streams: 1 });
    expect((await s.api('POST', '/message', { token: app.token, json: { message: 'nobody listens' } })).status).toBe(200);

    const again = await s.openStream(client.token);
    const second = await newStreamProcess([...before, first]);
    expect(second.pid).not.toBe(first.pid);
    const m = await s.api('POST', '/message', { token: app.token, json: { message: 'back' } });
    expect(await again.next()).toEqual(m.body);
  });

  it('stopped, never holds up POST /message; once too far behind it is restarted, and nothing is lost from the store', async () => {
    const { s, lines, client, app, st, proc } = await serverWithStream({ streamMaxBacklogChars: 20_000 });
    process.kill(proc.pid, 'SIGSTOP');
    cleanup.push(() => alive(proc.pid) && process.kill(proc.pid, 'SIGCONT'));

    const text = 'x'.repeat(1000);
    for (let i = 0; i < 40; i++) expect((await s.api('POST', '/message', { token: app.token, json: { message: text } })).status).toBe(200);
    // 40 messages of ~1,100 characters each are past the 20,000 allowed: the stopped process was killed.
    expect(await st.closed).toBe(1006);
    await waitFor(() => !alive(proc.pid), 'the stopped process to be killed');
    expect(lines.find((l) => l.msg.startsWith('the stream process fell behind'))).toMatchObject({ level: 40, streams: 1 });
    expect(lines.some((l) => l.msg === 'the stream process exited; its streams were closed')).toBe(false);
    expect((await s.api('GET', '/application/' + app.id + '/message?limit=100', { auth: s.adminAuth })).body.messages).toHaveLength(40);

    const again = await s.openStream(client.token);
    const m = await s.api('POST', '/message', { token: app.token, json: { message: 'caught up' } });
    expect(await again.next()).toEqual(m.body);
  });

  it('outlives a Ctrl-C sent to the whole process group, so the stopping server closes its streams with 1001', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'flow-test-'));
    cleanup.push(() => rm(data, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    const args = ['--server-listenaddr', '127.0.0.1', '--server-port', '0', '--datadir', data, '--passstrength', '4', '--plugins-bundled', 'false'];
    // Its own process group, as a shell gives a command it runs: the group a terminal's Ctrl-C reaches.
    const server = spawn(process.execPath, [BIN, ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => void (server.exitCode === null && server.kill('SIGKILL')));
    let out = '';
    server.stdout!.on('data', (d) => (out += d));
    server.stderr!.on('data', (d) => (out += d));
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 'the start line');
    const auth = { Authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64'), 'Content-Type': 'application/json' };
    const client = await (await fetch(url + '/client', { method: 'POST', headers: auth, body: '{"name":"phone"}' })).json();
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/stream?token=' + client.token);
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const proc = await waitFor(async () => (await streamProcesses(server.pid!))[0], 'the stream process');

    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    process.kill(-server.pid!, 'SIGINT');
    expect(await closed).toBe(1001);
    expect(await exited).toBe(0);
    await waitFor(() => !alive(proc.pid), 'the stream process to end with its server');
    expect(out).toContain('flow stopped');
    expect(out).not.toContain('the stream process exited');
  });

  it('exits with a server killed with SIGKILL, closing its streams', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'flow-test-'));
    cleanup.push(() => rm(data, { recursive: true, force: true }));
    const script = `
      const { startFlow } = await import(${JSON.stringify(SERVER_ENTRY)});
      const flow = await startFlow({ quiet: true, config: ${JSON.stringify({ 'server.listenaddr': '127.0.0.1', 'server.port': 0, datadir: data, passstrength: 4, 'plugins.bundled': false })} });
      const auth = { authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64'), 'content-type': 'application/json' };
      const client = await (await fetch(flow.url + '/client', { method: 'POST', headers: auth, body: '{"name":"phone"}' })).json();
      console.log(JSON.stringify({ url: flow.url, token: client.token }));
    `;
    const server = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => void server.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const { url, token } = JSON.parse(line) as { url: string; token: string };
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/stream?token=' + token);
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const proc = await waitFor(async () => (await streamProcesses(server.pid!))[0], 'the stream process');

    server.kill('SIGKILL');
    await waitFor(() => !alive(proc.pid), 'the stream process to exit with its server');
    expect(await closed).toBe(1006);
  });
});
