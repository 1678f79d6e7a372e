/**
 * Test harness for black-box tests: starts the real Flow server (built `@flow/server`, run
 * `npx tsc -b` first) on 127.0.0.1 port 0 with a fresh temp data dir and silenced logs, and
 * gives small helpers to talk to it.
 *
 *   const s = await startTestServer();             // admin/admin, passstrength 4
 *   const app = await s.createApp({ name: 'ci' });  // → { id, token, ... } owned by admin
 *   const res = await s.api('POST', '/message', { token: app.token, json: { message: 'hi' } });
 *   expect(res.status).toBe(200);
 *   await s.close();                                // stops the server, deletes the temp dir
 *
 * Options: `config` (any FlowConfig key, e.g. { pluginsdir: '/path' } or
 * { 'server.stream.pingperiodseconds': 1 }), `dataDir` (reuse a directory; it is then not
 * deleted on close). `restart()` stops and starts again on the same data dir (same port is
 * not guaranteed).
 *
 * With `FLOW_TEST_DATABASE=postgres` (`vitest.postgres.config.ts`) the server keeps its data in
 * a PostgreSQL database of its own, named after the data dir (`test-database.ts`) and dropped on
 * close with the temp dir; a test's own `database.*` config wins.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startFlow, type FlowConfig, type FlowHandle } from '@flow/server';
import { dropDatabaseFor, onPostgres, postgresConfigFor } from './test-database.js';

export interface TestServerOptions {
  config?: Partial<FlowConfig>;
  /** Use this data dir instead of a new temp dir (kept on close). */
  dataDir?: string;
  /** startFlow's internal `streamLastUsedPeriodMs` (refresh of lastUsed for open streams; default 5 min). */
  streamLastUsedPeriodMs?: number;
  /** startFlow's internal `streamMaxBacklogChars` (how far the stream process may fall behind). */
  streamMaxBacklogChars?: number;
  /** A logger to use instead of silence (a test that checks what the server logs). */
  logger?: import('@flow/server').Logger;
  /** startFlow's internal `clock` (message dates and retention), to move time in tests. */
  clock?: () => number;
}

export interface ApiOptions {
  /** Sent as X-Gotify-Key. */
  token?: string;
  /** A full Authorization header value (e.g. `s.adminAuth` or `basic('bob','pw')`). */
  auth?: string;
  /** JSON body (Content-Type application/json). */
  json?: unknown;
  /** Form body (application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  /** Raw body with its own headers. */
  body?: BodyInit;
  headers?: Record<string, string>;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, else undefined. */
  body: T;
  text: string;
}

export interface TestUser {
  id: number;
  name: string;
  pass: string;
  admin: boolean;
  /** Basic Authorization header value for this user. */
  auth: string;
}

export interface TestServer {
  url: string;
  port: number;
  dataDir: string;
  /** The running server (services, store, bus) for white-box checks; prefer HTTP. */
  flow: FlowHandle;
  /** `Basic YWRtaW46YWRtaW4=` for the default admin. */
  adminAuth: string;
  api<T = any>(method: string, path: string, opts?: ApiOptions): Promise<ApiResponse<T>>;
  /** Creates a user through POST /user as admin. */
  createUser(name: string, pass?: string, admin?: boolean): Promise<TestUser>;
  /** Creates an application (default owner: admin) and returns the Gotify JSON (with token). */
  createApp(input?: { name?: string; description?: string; defaultPriority?: number }, auth?: string): Promise<any>;
  /** Creates a client (default owner: admin) and returns the Gotify JSON (with token). */
  createClient(name?: string, auth?: string): Promise<any>;
  /** Opens /stream with a client token; resolves once open. */
  openStream(token: string, headers?: Record<string, string>): Promise<TestStream>;
  /** Stops and starts the server again on the same data dir. */
  restart(): Promise<void>;
  /** Stops the server and removes the temp data dir. Safe to call twice. */
  close(): Promise<void>;
}

export interface TestStream {
  ws: WebSocket;
  /** Resolves with the next message (parsed JSON); rejects after `timeoutMs` (default 5000). */
  next(timeoutMs?: number): Promise<any>;
  /** Resolves with the close code once the server closed the socket. */
  closed: Promise<number>;
  close(): void;
}

/** Imports a Gotify 3.0 SQLite database with only Gotify's default admin/admin into the (empty) `dataDir`. */
async function seedFromGotify(dataDir: string): Promise<void> {
  const { gotifyFixture, writeGotifySqlite } = await import('./gotify-db.js');
  const { importGotify } = await import('../../server/src/import/gotify/import.js');
  const fx = gotifyFixture('3.0', 0);
  fx.rows = { users: fx.rows.users!.slice(0, 1), applications: [], clients: [], messages: [], plugin_confs: [] };
  const src = await mkdtemp(path.join(tmpdir(), 'flow-gotify-src-'));
  try {
    await writeGotifySqlite(path.join(src, 'gotify.db'), '3.0', fx);
    await importGotify({ database: path.join(src, 'gotify.db'), datadir: dataDir });
  } finally {
    await rm(src, { recursive: true, force: true });
  }
}

export const basic = (name: string, pass: string): string => 'Basic ' + Buffer.from(`${name}:${pass}`).toString('base64');

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'flow-test-')));
  const config: Partial<FlowConfig> = {
    'server.listenaddr': '127.0.0.1',
    'server.port': 0,
    datadir: dataDir,
    passstrength: 4,
    // Only the plugins a test puts in its folder (the shipped ones have their own test).
    'plugins.bundled': false,
    ...(onPostgres() && opts.config?.['database.dialect'] === undefined ? await postgresConfigFor(dataDir) : {}),
    ...opts.config,
  };
  const ownDatabase = ownDir && config['database.dialect'] === 'postgres' && opts.config?.['database.dialect'] === undefined;
  // FLOW_TEST_FROM_GOTIFY=1: every test server starts on a data dir imported from a Gotify 3.0
  // database holding Gotify's admin/admin (so the compatibility suites also prove an imported server).
  if (ownDir && process.env.FLOW_TEST_FROM_GOTIFY === '1') await seedFromGotify(dataDir);
  let flow = await startFlow({ config, quiet: true, logger: opts.logger, streamLastUsedPeriodMs: opts.streamLastUsedPeriodMs, streamMaxBacklogChars: opts.streamMaxBacklogChars, clock: opts.clock });
  const streams = new Set<WebSocket>();
  let closed = false;

  const s: TestServer = {
    get url() {
      return flow.url;
    },
    get port() {
      return flow.port;
    },
    dataDir,
    get flow() {
      return flow;
    },
    adminAuth: basic('admin', 'admin'),

    async api(method, p, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token !== undefined) headers['X-Gotify-Key'] = o.token;
      if (o.auth !== undefined) headers.Authorization = o.auth;
      let body: BodyInit | undefined = o.body;
      if (o.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(o.json);
      } else if (o.form !== undefined) {
        body = new URLSearchParams(o.form);
      }
      const res = await fetch(flow.url + p, { method, headers, body });
      const text = await res.text();
      let parsed: unknown;
      if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed as any, text };
    },

    async createUser(name, pass = 'pw-' + name, admin = false) {
      const r = await s.api('POST', '/user', { auth: s.adminAuth, json: { name, pass, admin } });
      if (r.status !== 200) throw new Error(`createUser ${name}: ${r.status} ${r.text}`);
      return { ...r.body, pass, auth: basic(name, pass) };
    },

    async createApp(input = {}, auth = s.adminAuth) {
      const r = await s.api('POST', '/application', { auth, json: { name: 'test app', ...input } });
      if (r.status !== 200) throw new Error(`createApp: ${r.status} ${r.text}`);
      return r.body;
    },

    async createClient(name = 'test client', auth = s.adminAuth) {
      const r = await s.api('POST', '/client', { auth, json: { name } });
      if (r.status !== 200) throw new Error(`createClient: ${r.status} ${r.text}`);
      return r.body;
    },

    openStream(token, headers = {}) {
      const ws = new WebSocket(flow.url.replace(/^http/, 'ws') + '/stream?token=' + encodeURIComponent(token), { headers });
      streams.add(ws);
      const queue: any[] = [];
      const waiters: ((m: any) => void)[] = [];
      ws.on('message', (data) => {
        const m = JSON.parse(String(data));
        const w = waiters.shift();
        if (w) w(m);
        else queue.push(m);
      });
      const closedP = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      return new Promise<TestStream>((resolve, reject) => {
        ws.once('open', () =>
          resolve({
            ws,
            closed: closedP,
            close: () => ws.close(),
            next: (timeoutMs = 5000) =>
              queue.length > 0
                ? Promise.resolve(queue.shift())
                : new Promise((res, rej) => {
                    const t = setTimeout(() => rej(new Error('no stream message within ' + timeoutMs + ' ms')), timeoutMs);
                    waiters.push((m) => {
                      clearTimeout(t);
                      res(m);
                    });
                  }),
          }),
        );
        ws.once('unexpected-response', (_req, res) => {
          reject(Object.assign(new Error(`stream upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
        });
        ws.once('error', reject);
      });
    },

    async restart() {
      for (const ws of streams) ws.terminate();
      await flow.close();
      flow = await startFlow({ config, quiet: true, logger: opts.logger, streamLastUsedPeriodMs: opts.streamLastUsedPeriodMs, streamMaxBacklogChars: opts.streamMaxBacklogChars, clock: opts.clock });
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const ws of streams) ws.terminate();
      await flow.close();
      if (ownDatabase) await dropDatabaseFor(dataDir);
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return s;
}
