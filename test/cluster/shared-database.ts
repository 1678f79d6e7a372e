/**
 * Replicas for the stream and cache suites: one real PostgreSQL 15 (Debian's package, on a
 * free loopback port) and `n` Flow servers started one after the other on one database of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { postgresAvailable, startPostgres, type PgServer } from '../helpers/db-servers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Under CI a missing PostgreSQL fails the run (.ci/run installs it); elsewhere the suite says why it did not run.
export const clusterAvailable = postgresAvailable() || process.env.CI === 'true';
if (!clusterAvailable) console.warn('test/cluster did not run: no PostgreSQL 15 (apt-get install postgresql)');

export interface Cluster {
  replicas: TestServer[];
  database: string;
  /** How to reach the database directly (a writer of its own, as another program would). */
  clientConfig: pg.ClientConfig;
  /** One statement as the database superuser, on the maintenance database. */
  admin(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

export async function startCluster(n: number): Promise<Cluster> {
  const server: PgServer = await startPostgres();
  const user = server.connection.match(/user=(\S+)/)![1]!;
  const database = `flow_cluster_${process.pid}`;
  const admin = async (sql: string, values: unknown[] = []) => {
    const c = new pg.Client({ host: server.host, port: server.port, user, database: 'postgres' });
    await c.connect();
    try {
      return await c.query(sql, values);
    } finally {
      await c.end();
    }
  };
  const replicas: TestServer[] = [];
  const dirs: string[] = [];
  try {
    await admin(`CREATE DATABASE ${database}`);
    const connection = server.connection.replace(/dbname=\S+/, `dbname=${database}`);
    for (let i = 0; i < n; i++) {
      const dir = await mkdtemp(path.join(tmpdir(), `flow-replica-${i}-`));
      dirs.push(dir);
      replicas.push(await startTestServer({ dataDir: dir, config: { 'database.dialect': 'postgres', 'database.connection': connection } }));
    }
  } catch (err) {
    for (const r of replicas) await r.close().catch(() => undefined);
    await server.stop();
    throw err;
  }
  return {
    replicas,
    database,
    clientConfig: { host: server.host, port: server.port, user, database },
    admin,
    async stop() {
      for (const r of replicas) await r.close().catch(() => undefined);
      await server.stop();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}
