/**
 * `flow import gotify` from real PostgreSQL 15 and MariaDB servers (Debian's packages, started by
 * the test in a temp dir): Gotify 3.0's schema in each dialect, the same rows as the SQLite test,
 * then the server on the imported data dir with the tokens and passwords the users hold.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMysqlConnection } from '../../server/src/import/gotify/mysql.js';
import { mariadbAvailable, postgresAvailable, startMariadb, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { gotifyFixture, gotifySchemaSql, insertStatements, type GotifyFixture } from '../helpers/gotify-db.js';
import { basic, startTestServer } from '../helpers/server.js';

const FLOW_BIN = fileURLToPath(new URL('../../server/bin/flow.mjs', import.meta.url));
const run = promisify(execFile);

const temps: string[] = [];
afterAll(async () => {
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

async function importAndCheck(db: DbServer, fx: GotifyFixture): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flow-import-srv-'));
  temps.push(dir);
  const datadir = path.join(dir, 'data');
  const { stdout } = await run(process.execPath, [FLOW_BIN, 'import', 'gotify', '--database', db.connection, '--datadir', datadir], { timeout: 120_000 });
  const total = fx.messageIds.admin.length + fx.messageIds.alice.length;
  expect(stdout).toContain(`3 users, 4 applications (0 images), 2 clients, ${total} messages, 2 plugin confs`);
  expect(stdout).toContain("image not copied (give --images with Gotify's image folder)");

  const s = await startTestServer({ dataDir: datadir });
  try {
    expect((await s.api('GET', '/current/user', { auth: basic('alice', 'alice-pw') })).body).toMatchObject({ id: 2, name: 'alice', admin: false });
    expect((await s.api('GET', '/current/user', { token: fx.held.aliceClient })).body.name).toBe('alice');
    const apps = (await s.api('GET', '/application', { token: fx.held.adminClient })).body;
    expect(apps.map((a: any) => [a.id, a.name, a.sortKey])).toEqual([[2, 'monitor', 'a0'], [1, 'backup', 'a1'], [5, 'echo', 'a2']]);
    expect(apps[1]).toMatchObject({ description: 'nightly backup', defaultPriority: 4, lastUsed: '2025-06-01T08:30:00.500Z' });
    const page = (await s.api('GET', `/message?limit=100&since=${fx.messageIds.admin[9]}`, { token: fx.held.adminClient })).body;
    expect(page.messages.map((m: any) => m.id)).toEqual(fx.messageIds.admin.slice(10, 110));
    const one = page.messages.find((m: any) => m.message === 'message 204');
    expect(one).toMatchObject({ appid: 2, title: '', priority: 6, extras: { n: 204 }, date: '2025-01-01T03:24:00.000Z' });
    const sent = await s.api('POST', '/message', { token: fx.held.aliceApp, json: { message: 'hi' } });
    expect(sent.body).toMatchObject({ appid: 3, title: 'alice app' });
    expect((await s.api('GET', '/plugin/1/config', { token: fx.held.adminClient })).status).not.toBe(401);
  } finally {
    await s.close();
  }
}

describe.runIf(postgresAvailable() || process.env.CI === 'true')('flow import gotify from PostgreSQL', () => {
  it('reads Gotify 3.0 tables from a real PostgreSQL 15 server with a libpq connection string', async () => {
    const server = await startPostgres();
    try {
      const fx = gotifyFixture('3.0', 250);
      const c = new pg.Client({ host: server.host, port: server.port, user: server.connection.match(/user=(\S+)/)![1], database: 'gotify' });
      await c.connect();
      try {
        for (const sql of gotifySchemaSql('postgres', '3.0')) await c.query(sql);
        for (const st of insertStatements('postgres', fx.rows)) await c.query(st.sql, st.params);
      } finally {
        await c.end();
      }
      await importAndCheck(server, fx);
    } finally {
      await server.stop();
    }
  }, 240_000);
});

describe.runIf(mariadbAvailable() || process.env.CI === 'true')('flow import gotify from MySQL (MariaDB)', () => {
  it('reads Gotify 3.0 tables from a real MariaDB server with a Go DSN', async () => {
    const server = await startMariadb();
    try {
      const fx = gotifyFixture('3.0', 250);
      const c = await mysql.createConnection(parseMysqlConnection(server.connection).options);
      try {
        for (const sql of gotifySchemaSql('mysql', '3.0')) await c.query(sql);
        for (const st of insertStatements('mysql', fx.rows)) await c.query(st.sql, st.params);
      } finally {
        await c.end();
      }
      await importAndCheck(server, fx);
    } finally {
      await server.stop();
    }
  }, 300_000);
});
