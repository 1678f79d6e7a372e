/**
 * `database.dialect: postgres` against a real PostgreSQL 15 (Debian's package, started by the test
 * in a temp dir on a free port): schema migrations (concurrent starts, a newer or foreign schema
 * refused), the bin's exit 2 when the server is unreachable (under Flow's and Gotify's env
 * names), an outage while running (503 with Gotify's body, /health red, recovery by itself, no
 * half-written message), bulk deletes purged from the tables, and state that survives a restart.
 * The REST suites themselves run on PostgreSQL through `vitest.postgres.config.ts`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFlow } from '@flow/server';
import { freePort, postgresAvailable, startPostgres, type PgServer } from '../helpers/db-servers.js';
import { waitFor } from '../helpers/wait.js';
import { startTestServer } from '../helpers/server.js';

const FLOW_BIN = fileURLToPath(new URL('../../server/bin/flow.mjs', import.meta.url));
const run = promisify(execFile);

// Under CI a missing PostgreSQL fails the run (.ci/run installs it); elsewhere the suite says why it did not run.
const available = postgresAvailable() || process.env.CI === 'true';
if (!available) console.warn('test/postgres did not run: no PostgreSQL 15 (apt-get install postgresql)');

describe.runIf(available)('PostgreSQL store', () => {
  let server: PgServer;
  let n = 0;
  const temps: string[] = [];

  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    for (const d of temps) await rm(d, { recursive: true, force: true });
  });

  const admin = async <T>(fn: (c: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> => {
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: server.connection.match(/user=(\S+)/)![1], database });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };

  /** A new empty database and the config keys naming it. */
  async function freshDatabase(): Promise<{ name: string; config: { 'database.dialect': string; 'database.connection': string } }> {
    const name = `flow_store_${process.pid}_${++n}`;
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
    return { name, config: { 'database.dialect': 'postgres', 'database.connection': server.connection.replace(/dbname=\S+/, `dbname=${name}`) } };
  }

  async function tempDir(): Promise<string> {
    const d = await mkdtemp(path.join(tmpdir(), 'flow-pg-store-'));
    temps.push(d);
    return d;
  }

  it('applies the schema once when two servers start on one database at the same time', async () => {
    const db = await freshDatabase();
    const [a, b] = await Promise.all([startTestServer({ config: db.config }), startTestServer({ config: db.config })]);
    try {
      const versions = await admin((c) => c.query('SELECT version FROM flow_migrations ORDER BY version'), db.name);
      expect(versions.rows.map((r) => r.version)).toEqual([1, 2, 3, 5, 6]);
      // Each of them created the default admin only if the table was empty: one "admin" row.
      const users = await admin((c) => c.query("SELECT count(*)::int AS n FROM users WHERE name = 'admin'"), db.name);
      expect(users.rows[0].n).toBeGreaterThanOrEqual(1);
      // One of the two leads (the leader lease), the other follows.
      const roles = [(await a.api('GET', '/health')).body, (await b.api('GET', '/health')).body];
      for (const h of roles) expect(h).toMatchObject({ health: 'green', database: 'green' });
      expect(roles.map((h) => h.replica.role).sort()).toEqual(['follower', 'leader']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a database with a newer Flow schema, and one holding tables Flow did not create', async () => {
    const newer = await freshDatabase();
    const s = await startTestServer({ config: newer.config });
    await s.close();
    await admin((c) => c.query("INSERT INTO flow_migrations (version, name) VALUES (999, 'from the future')"), newer.name);
    await expect(startFlow({ quiet: true, config: { ...newer.config, datadir: await tempDir(), 'server.port': 0, 'server.listenaddr': '127.0.0.1' } })).rejects.toMatchObject({
      code: 'FLOW_ERR_CONFIG_INVALID',
      message: expect.stringContaining('schema version 999, newer than'),
    });

    const foreign = await freshDatabase();
    await admin((c) => c.query('CREATE TABLE messages (id bigint primary key, message text)'), foreign.name);
    await expect(startFlow({ quiet: true, config: { ...foreign.config, datadir: await tempDir(), 'server.port': 0, 'server.listenaddr': '127.0.0.1' } })).rejects.toMatchObject({
      code: 'FLOW_ERR_CONFIG_INVALID',
      message: expect.stringContaining('already holds tables Flow did not create (messages)'),
    });
  });

  it('the bin exits 2 naming the server when PostgreSQL is unreachable at start, under FLOW_ and GOTIFY_ names', async () => {
    const port = await freePort();
    for (const prefix of ['FLOW', 'GOTIFY']) {
      const err = await run(process.execPath, [FLOW_BIN], {
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          [`${prefix}_DATABASE_DIALECT`]: 'postgres',
          [`${prefix}_DATABASE_CONNECTION`]: `host=127.0.0.1 port=${port} user=flow dbname=flow password=s3cret-pw sslmode=disable`,
          FLOW_DATADIR: await tempDir(),
          FLOW_SERVER_PORT: '0',
          FLOW_PLUGINS_BUNDLED: 'false',
        },
      }).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err?.code).toBe(2);
      expect(err?.stderr).toContain(`cannot reach the PostgreSQL database at 127.0.0.1:${port}/flow`);
      expect(err?.stderr).not.toContain('s3cret-pw');
    }
  });

  it('answers 503 with Gotify\'s body while the database is down, and recovers by itself', async () => {
    const db = await freshDatabase();
    const s = await startTestServer({ config: db.config });
    try {
      const app = await s.createApp({ name: 'outage' });
      expect((await s.api('POST', '/message', { token: app.token, json: { message: 'before' } })).status).toBe(200);
      await server.down();
      const during = await s.api('POST', '/message', { token: app.token, json: { message: 'during' } });
      expect(during.status).toBe(503);
      expect(during.body).toEqual({ error: 'Service Unavailable', errorCode: 503, errorDescription: expect.stringContaining('unreachable') });
      const list = await s.api('GET', '/message', { auth: s.adminAuth });
      expect(list.status).toBe(503);
      expect((await s.api('GET', '/health')).body).toMatchObject({ health: 'orange', database: 'red' });
      // It cannot renew the leader lease: it stops acting as the leader before the lease could expire (cluster/leader.ts).
      await waitFor(async () => (await s.api('GET', '/health')).body.replica.role === 'follower', 'the leader role dropped during the outage');
      await server.up();
      await waitFor(async () => (await s.api('GET', '/health')).status === 200 || undefined, 'health green after the database came back');
      // Alone on the database, it leads again (its lease, or a new one once that expired).
      await waitFor(async () => (await s.api('GET', '/health')).body.replica.role === 'leader', 'the leader role back');
      expect((await s.api('POST', '/message', { token: app.token, json: { message: 'after' } })).status).toBe(200);
      const after = await s.api('GET', '/message', { auth: s.adminAuth });
      expect(after.body.messages.map((m: { message: string }) => m.message)).toEqual(['after', 'before']);
    } finally {
      if ((await admin((c) => c.query('SELECT 1')).catch(() => undefined)) === undefined) await server.up();
      await s.close();
    }
  });

  it('removes bulk-deleted messages from the tables in the background, and keeps state across restarts', async () => {
    const db = await freshDatabase();
    const s = await startTestServer({ config: db.config, dataDir: await tempDir() });
    try {
      const keep = await s.createApp({ name: 'keep' });
      const drop = await s.createApp({ name: 'drop' });
      for (let i = 0; i < 30; i++) {
        await s.api('POST', '/message', { token: i % 2 ? keep.token : drop.token, json: { message: `m${i}` } });
      }
      expect((await s.api('DELETE', `/application/${drop.id}`, { auth: s.adminAuth })).status).toBe(200);
      // Gone from the API at once, whatever the purger has done yet.
      expect((await s.api('GET', '/message?limit=100', { auth: s.adminAuth })).body.messages).toHaveLength(15);
      await s.flow.app.store.messages.purger.idle();
      const rows = await admin((c) => c.query('SELECT app_id::int, count(*)::int AS n FROM messages GROUP BY app_id'), db.name);
      expect(rows.rows).toEqual([{ app_id: keep.id, n: 15 }]);
      expect((await admin((c) => c.query('SELECT count(*)::int AS n FROM purge_marks'), db.name)).rows[0].n).toBe(0);

      const client = await s.createClient('phone');
      await s.restart();
      expect((await s.api('GET', '/current/user', { token: client.token })).body.name).toBe('admin');
      const page = await s.api('GET', `/application/${keep.id}/message?limit=5`, { token: client.token });
      expect(page.body.messages).toHaveLength(5);
      const next = await s.api('GET', `/application/${keep.id}/message?limit=100&since=${page.body.paging.since}`, { token: client.token });
      expect(next.body.messages).toHaveLength(10);
      // Ids continue after a restart, never reused.
      const posted = await s.api('POST', '/message', { token: keep.token, json: { message: 'new' } });
      expect(posted.body.id).toBeGreaterThan(page.body.messages[0].id);
    } finally {
      await s.close();
    }
  });

  it('flow migrate copies a LevelDB data dir into an empty PostgreSQL database and back, verified, refusing a non-empty target', async () => {
    const dir = await tempDir();
    const lv = await startTestServer({ dataDir: dir, config: { 'database.dialect': 'leveldb' } });
    const bob = await lv.createUser('bob', 'bob-pw');
    const app = await lv.createApp({ name: 'alerts', description: 'd', defaultPriority: 4 }, bob.auth);
    const gone = await lv.createApp({ name: 'gone' }, bob.auth);
    const phone = await lv.createClient('phone', bob.auth);
    for (let i = 0; i < 25; i++) await lv.api('POST', '/message', { token: i % 5 === 0 ? gone.token : app.token, json: { message: `m${i}`, extras: { 'client::display': { contentType: 'text/markdown' } } } });
    expect((await lv.api('DELETE', `/application/${gone.id}`, { auth: bob.auth })).status).toBe(200);
    const conf = await lv.flow.app.store.pluginConfs.create({ userId: bob.id, modulePath: 'example.com/counter', token: 'Pcounter0000000000000000', applicationId: 0, config: 'a: 1\n' });
    await lv.flow.app.store.pluginConfs.setStorage(conf.id, Buffer.from([0, 1, 2, 250]));
    await lv.flow.app.store.pluginConfs.kvSet(conf.id, 'count', '7');
    await lv.flow.app.store.pluginConfs.kvSet(conf.id, 'ünïcode/key', { nested: [1, 2] });
    await lv.flow.app.store.pluginPermissions.set('example.com/counter', 'admins');
    const before = (await lv.api('GET', '/message?limit=100', { auth: bob.auth })).body.messages;
    expect(before).toHaveLength(20);
    await lv.close();

    const db = await freshDatabase();
    const migrate = (args: string[]) =>
      run(process.execPath, [FLOW_BIN, 'migrate', ...args], { timeout: 120_000 }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const toPg = await migrate(['--to', 'postgres', '--connection', db.config['database.connection'], '--datadir', dir]);
    expect(toPg.stderr).toBe('');
    expect(toPg.code).toBe(0);
    expect(toPg.stdout).toContain('verified: 2 users, 1 clients, 1 applications, 20 messages, 1 plugin confs (1 with storage, 2 key-value entries), 1 plugin permissions');
    const again = await migrate(['--to', 'postgres', '--connection', db.config['database.connection'], '--datadir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds Flow data');

    const pgServer = await startTestServer({ dataDir: dir, config: db.config });
    try {
      expect((await pgServer.api('GET', '/message?limit=100', { token: phone.token })).body.messages).toEqual(before);
      expect((await pgServer.api('GET', '/application', { auth: bob.auth })).body).toMatchObject([{ id: app.id, token: app.token, name: 'alerts', description: 'd', defaultPriority: 4 }]);
      const store = pgServer.flow.app.store;
      expect([...(await store.pluginConfs.getStorage(conf.id))]).toEqual([0, 1, 2, 250]);
      expect(await store.pluginConfs.kvList(conf.id)).toEqual({ count: '7', 'ünïcode/key': { nested: [1, 2] } });
      expect(store.pluginPermissions.get('example.com/counter')).toBe('admins');
      const next = await pgServer.api('POST', '/message', { token: app.token, json: { message: 'on postgres' } });
      expect(next.body.id).toBeGreaterThan(before[0].id);
      const again2 = await pgServer.createApp({ name: 'new' }, bob.auth);
      expect(again2.id).toBeGreaterThan(gone.id);
    } finally {
      await pgServer.close();
    }

    const back = await tempDir();
    const toLevel = await migrate(['--to', 'leveldb', '--connection', db.config['database.connection'], '--datadir', back]);
    expect(toLevel.code).toBe(0);
    expect(toLevel.stdout).toContain('verified: 2 users, 1 clients, 2 applications, 21 messages, 1 plugin confs (1 with storage, 2 key-value entries), 1 plugin permissions');
    const refused = await migrate(['--to', 'leveldb', '--connection', db.config['database.connection'], '--datadir', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds a database');

    const lv2 = await startTestServer({ dataDir: back, config: { 'database.dialect': 'leveldb' } });
    try {
      const msgs = (await lv2.api('GET', '/message?limit=100', { token: phone.token })).body.messages;
      expect(msgs).toHaveLength(21);
      expect(msgs.slice(1)).toEqual(before);
      expect(await lv2.flow.app.store.pluginConfs.kvList(conf.id)).toEqual({ count: '7', 'ünïcode/key': { nested: [1, 2] } });
    } finally {
      await lv2.close();
    }
    // Three runs of the bin and three servers: a bound for a loaded machine, not a speed check.
  }, 180_000);
});
