/**
 * Gotify's `server.listenaddr: unix:/path`: the server listens on a unix domain socket; a socket
 * file a crashed server left behind is replaced, one a live server holds is refused by name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startFlow, type FlowHandle } from '@flow/server';

let dir: string;
let flow: FlowHandle | undefined;
let holder: Server | undefined;
afterEach(async () => {
  await flow?.close();
  flow = undefined;
  holder?.close();
  holder = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const start = (socket: string) =>
  startFlow({ quiet: true, config: { 'server.listenaddr': `unix:${socket}`, datadir: path.join(dir, 'data'), passstrength: 4, 'plugins.bundled': false } });

function health(socketPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: '/health' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

describe('server.listenaddr unix:<path>', { timeout: 60_000 }, () => {
  it('serves HTTP on the socket and removes it on stop', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flow-unix-'));
    const socket = path.join(dir, 'flow.sock');
    flow = await start(socket);
    expect(flow.url).toBe(`unix:${socket}`);
    const h = await health(socket);
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body)).toMatchObject({ health: 'green', database: 'green' });
    await flow.close();
    flow = undefined;
    expect(existsSync(socket)).toBe(false);
  });

  it('carries /stream on the socket (the stream process takes unix sockets too)', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flow-unix-'));
    const socket = path.join(dir, 'flow.sock');
    flow = await start(socket);
    const admin = 'Basic ' + Buffer.from('admin:admin').toString('base64');
    const call = (method: string, p: string, headers: Record<string, string>, body: unknown) =>
      new Promise<any>((resolve, reject) => {
        const req = http.request({ socketPath: socket, method, path: p, headers: { ...headers, 'Content-Type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(JSON.parse(text)));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    const client = await call('POST', '/client', { Authorization: admin }, { name: 'phone' });
    const app = await call('POST', '/application', { Authorization: admin }, { name: 'a' });
    const ws = new WebSocket(`ws+unix://${socket}:/stream?token=${client.token}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const received = new Promise<any>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    const posted = await call('POST', '/message', { 'X-Gotify-Key': app.token }, { message: 'over a unix socket' });
    expect(await received).toEqual(posted);
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await flow.close();
    flow = undefined;
    expect(await closed).toBe(1001);
  });

  it("replaces a crashed server's socket file, refuses a live one's and a file that is no socket", async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flow-unix-'));
    const socket = path.join(dir, 'flow.sock');
    // A process that listens on the socket and is killed: its socket file stays behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`]);
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(existsSync(socket)).toBe(true);
    flow = await start(socket);
    expect((await health(socket)).status).toBe(200);
    await flow.close();
    flow = undefined;

    holder = createServer();
    await new Promise<void>((resolve) => holder!.listen(socket, resolve));
    await expect(start(socket)).rejects.toThrow(`socket ${socket} is already in use: stop the other server or choose another path (server.listenaddr)`);
    holder.close();
    holder = undefined;

    const file = path.join(dir, 'not-a-socket');
    await writeFile(file, 'x');
    await expect(start(file)).rejects.toThrow(`cannot listen on ${file}: it exists and is not a socket (server.listenaddr)`);
  });
});
