/**
 * Harness of the cluster suites (`vitest.cluster.config.ts`): N real Flow servers — the `flow`
 * bin, each its own process, as an operator runs them — on ONE PostgreSQL database of their own
 * (on the run's PostgreSQL 15 from `test/helpers/postgres-setup.ts`), each on its own loopback
 * port and data dir, with a distinct `cluster.name` (r1, r2, …) and `cluster.advertiseurl`.
 *
 *   const c = await startReplicas(3);                 // r1 first (schema, admin), then r2, r3
 *   const [r1, r2] = c.replicas;
 *   const app = await r1.createApp();                 // admin/admin, over HTTP
 *   await r2.api('POST', '/message', { token: app.token, json: { message: 'hi' } });
 *   r1.signal('SIGSTOP'); … r1.signal('SIGCONT');    // pause / resume the process
 *   await r1.kill();                                  // SIGKILL, waits for the exit
 *   await r1.restart();                               // same port, data dir and name; a new replica id
 *   await c.sql('SELECT holder FROM leases')          // straight into the shared database
 *   await c.stop();                                   // every replica SIGTERM (SIGKILL after 15 s), database dropped
 *
 * A replica's stdout is its pino JSON log, kept parsed in `logs` (`waitForLog` waits for a line).
 * `skewMs` starts the bin with `--import ./skewed-clock.mjs`: that process's wall clock (Date)
 * runs that far off, the way a replica on a badly synchronised machine would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { WebSocket } from 'ws';
import { freePort } from '../helpers/db-servers.js';
import { basic, type ApiOptions, type ApiResponse } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const FLOW_BIN = fileURLToPath(new URL('../../server/bin/flow.mjs', import.meta.url));
const SKEW_PRELOAD = fileURLToPath(new URL('./skewed-clock.mjs', import.meta.url));

/** The shared secret every harness replica gets. */
export const CLUSTER_SECRET = 'cluster-test-secret-0123456789';

export interface ReplicaOptions {
  /** Extra config as env (`FLOW_…` names), e.g. { FLOW_RETENTION_INTERVALSECONDS: '1' }. */
  env?: Record<string, string>;
  /** Run this replica's wall clock (Date) this many ms off (positive: ahead). */
  skewMs?: number;
}

export interface Replica {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  /** The current process (replaced by restart()). */
  readonly proc: ChildProcess;
  /** Parsed JSON log lines of the current process (non-JSON lines as { raw }). */
  readonly logs: any[];
  /** This replica's id (new per start), as its log states it. */
  id(): Promise<string>;
  api<T = any>(method: string, path: string, opts?: ApiOptions): Promise<ApiResponse<T>>;
  createApp(input?: Record<string, unknown>, auth?: string): Promise<any>;
  createClient(name?: string, auth?: string): Promise<any>;
  /** Opens /stream with a client token; resolves once open. `messages` collects what arrives. */
  openStream(token: string): Promise<{ ws: WebSocket; messages: any[]; close(): void }>;
  /** Sends a signal to the process (SIGSTOP / SIGCONT / …). */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL, and waits until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), and waits for the exit; SIGKILL after 15 s. Resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Starts the bin again (after kill/stop) on the same port, data dir, name and options. */
  restart(): Promise<void>;
  /** Resolves with the first log line (of the current process) matching `pred`. */
  waitForLog(pred: (line: any) => boolean, what: string, timeoutMs?: number): Promise<any>;
  readonly running: boolean;
}

export interface ReplicaSet {
  /** `database.connection` of the shared database. */
  readonly connection: string;
  readonly replicas: Replica[];
  /** Starts one more replica (named r<n>) on the database. */
  add(opts?: ReplicaOptions): Promise<Replica>;
  /** One statement on the shared database. */
  sql<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<R[]>;
  /** Stops every replica and drops the database. */
  stop(): Promise<void>;
}

function serverConnection(): string {
  const c = process.env.FLOW_TEST_PG_CONNECTION;
  if (!c) throw new Error('the cluster harness needs the global setup test/helpers/postgres-setup.ts (run with vitest.cluster.config.ts)');
  return c;
}

const connectionFor = (db: string): string => serverConnection().replace(/dbname=\S+/, `dbname=${db}`);

/** A client of its own on `connection` (the harness's "key=value" form), e.g. to hold a transaction open. */
export function clientFor(connection: string): pg.Client {
  const kv = Object.fromEntries(connection.split(/\s+/).map((p) => p.split('=') as [string, string]));
  return new pg.Client({ host: kv.host, port: Number(kv.port), user: kv.user, database: kv.dbname });
}

async function onDatabase<T>(connection: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = clientFor(connection);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

let databases = 0;

/** A new empty database on the run's PostgreSQL; `drop()` removes it (connections cut). */
export async function freshDatabase(prefix = 'flow_cluster'): Promise<{ name: string; connection: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${++databases}`;
  await onDatabase(connectionFor('postgres'), (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    connection: connectionFor(name),
    drop: () => onDatabase(connectionFor('postgres'), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Starts `n` replicas on a fresh database: the first alone (it creates the schema and the admin), the others together. */
export async function startReplicas(n: number, opts: ReplicaOptions | ((i: number) => ReplicaOptions) = {}): Promise<ReplicaSet> {
  const db = await freshDatabase();
  const replicas: Replica[] = [];
  const optsOf = (i: number) => (typeof opts === 'function' ? opts(i) : opts);
  const set: ReplicaSet = {
    connection: db.connection,
    replicas,
    async add(o = {}) {
      const r = await startReplica(`r${replicas.length + 1}`, db.connection, o);
      replicas.push(r);
      return r;
    },
    sql: (text, values = []) => onDatabase(db.connection, async (c) => (await c.query(text, values)).rows),
    async stop() {
      await Promise.all(replicas.map((r) => r.stop()));
      for (const r of replicas) await rm(r.dataDir, { recursive: true, force: true });
      await db.drop();
    },
  };
  try {
    if (n > 0) await set.add(optsOf(0));
    const rest = await Promise.allSettled(Array.from({ length: n - 1 }, (_, i) => startReplica(`r${i + 2}`, db.connection, optsOf(i + 1))));
    for (const r of rest) if (r.status === 'fulfilled') replicas.push(r.value);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    replicas.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  } catch (err) {
    await set.stop();
    throw err;
  }
  return set;
}

async function startReplica(name: string, connection: string, o: ReplicaOptions): Promise<Replica> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), `flow-cluster-${name}-`));
  const env: Record<string, string> = {};
  // The parent's FLOW_*/GOTIFY_* settings (vitest's, the developer's) must not leak into the replicas.
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(FLOW|GOTIFY)_/.test(k)) env[k] = v;
  Object.assign(env, {
    FLOW_SERVER_LISTENADDR: '127.0.0.1',
    FLOW_SERVER_PORT: String(port),
    FLOW_DATADIR: dataDir,
    FLOW_DATABASE_DIALECT: 'postgres',
    FLOW_DATABASE_CONNECTION: connection,
    FLOW_PASSSTRENGTH: '4',
    FLOW_PLUGINS_BUNDLED: 'false',
    FLOW_LOG_FORMAT: 'json',
    FLOW_LOG_LEVEL: 'info',
    FLOW_CLUSTER_NAME: name,
    FLOW_CLUSTER_SECRET: CLUSTER_SECRET,
    FLOW_CLUSTER_ADVERTISEURL: url,
    ...o.env,
  });
  if (o.skewMs !== undefined) env.FLOW_TEST_CLOCK_SKEW_MS = String(o.skewMs);
  const argv = [...(o.skewMs !== undefined ? ['--import', SKEW_PRELOAD] : []), FLOW_BIN];

  let proc!: ChildProcess;
  let logs: any[] = [];
  let exited!: Promise<number | null>;
  let stderr = '';
  const spawnIt = async () => {
    logs = [];
    stderr = '';
    proc = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const current = proc;
    const lines = logs;
    exited = new Promise((resolve) => current.once('exit', (code) => resolve(code)));
    let buf = '';
    current.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push({ raw: line });
        }
      }
    });
    current.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    await waitFor(
      async () => {
        if (current.exitCode !== null) throw new Error(`replica ${name} exited with ${current.exitCode} while starting: ${stderr}`);
        return fetch(url + '/health').then((r) => r.status === 200, () => false);
      },
      `replica ${name} to answer /health`,
      60_000,
    );
  };
  await spawnIt();

  const api = async (method: string, p: string, a: ApiOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...a.headers };
    if (a.token !== undefined) headers['X-Gotify-Key'] = a.token;
    if (a.auth !== undefined) headers.Authorization = a.auth;
    let body: BodyInit | undefined = a.body;
    if (a.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(a.json);
    } else if (a.form !== undefined) body = new URLSearchParams(a.form);
    const res = await fetch(url + p, { method, headers, body });
    const text = await res.text();
    const parsed = (res.headers.get('content-type') ?? '').includes('json') && text !== '' ? JSON.parse(text) : undefined;
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  const adminAuth = basic('admin', 'admin');
  const exitCode = () => proc.exitCode ?? proc.signalCode;

  const r: Replica = {
    name,
    port,
    url,
    dataDir,
    get proc() {
      return proc;
    },
    get logs() {
      return logs;
    },
    get running() {
      return exitCode() === null;
    },
    async id() {
      // Every line of the cluster component carries the replica id (cluster/cluster.ts).
      const line = await waitFor(() => logs.find((l) => l.component === 'cluster' && typeof l.replica === 'string'), `replica ${name}: its id in the log`);
      return line.replica;
    },
    api,
    async createApp(input = {}, auth = adminAuth) {
      const res = await api('POST', '/application', { auth, json: { name: 'cluster app', ...input } });
      if (res.status !== 200) throw new Error(`createApp on ${name}: ${res.status} ${res.text}`);
      return res.body;
    },
    async createClient(clientName = 'cluster client', auth = adminAuth) {
      const res = await api('POST', '/client', { auth, json: { name: clientName } });
      if (res.status !== 200) throw new Error(`createClient on ${name}: ${res.status} ${res.text}`);
      return res.body;
    },
    openStream(token) {
      const ws = new WebSocket(url.replace(/^http/, 'ws') + '/stream?token=' + encodeURIComponent(token));
      const messages: any[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(String(data))));
      return new Promise((resolve, reject) => {
        ws.once('open', () => resolve({ ws, messages, close: () => ws.terminate() }));
        ws.once('error', reject);
      });
    },
    signal(sig) {
      proc.kill(sig);
    },
    async kill() {
      if (exitCode() !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (exitCode() !== null) return proc.exitCode;
      // A stopped process acts on SIGTERM only once continued.
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const force = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(force);
      return code;
    },
    async restart() {
      if (exitCode() === null) throw new Error(`replica ${name} still runs: kill() or stop() it first`);
      await spawnIt();
    },
    waitForLog(pred, what, timeoutMs = 20_000) {
      return waitFor(() => logs.find(pred), `replica ${name}: ${what}`, timeoutMs);
    },
  };
  return r;
}
