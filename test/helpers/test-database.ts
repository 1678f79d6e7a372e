/**
 * PostgreSQL for the suites run with `FLOW_TEST_DATABASE=postgres` (`vitest.postgres.config.ts`,
 * `.ci/run`): one throwaway server per vitest run (`postgres-setup.ts`, the global setup,
 * starts it with `db-servers.ts` and passes its connection string in
 * `FLOW_TEST_PG_CONNECTION`), and a database of its own for every test server.
 *
 * The database is named after the server's data dir, so a test that starts a second server on
 * the same `dataDir` (persistence, restarts) finds its data again, as it would in LevelDB.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { FlowConfig } from '@flow/server';

/** True when the test servers keep their data in PostgreSQL. */
export const onPostgres = (): boolean => process.env.FLOW_TEST_DATABASE === 'postgres';

function serverConnection(): string {
  const c = process.env.FLOW_TEST_PG_CONNECTION;
  if (!c) throw new Error('FLOW_TEST_DATABASE=postgres needs the global setup test/helpers/postgres-setup.ts (run with vitest.postgres.config.ts)');
  return c;
}

const withDbName = (connection: string, name: string): string => connection.replace(/dbname=\S+/, `dbname=${name}`);

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const connection = serverConnection();
  const kv = Object.fromEntries(connection.split(/\s+/).map((p) => p.split('=') as [string, string]));
  const client = new pg.Client({ host: kv.host, port: Number(kv.port), user: kv.user, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The database of the test server on `dataDir`. */
export const databaseName = (dataDir: string): string => 'flow_' + createHash('sha256').update(dataDir).digest('hex').slice(0, 24);

/** Creates the server's database unless it exists; returns the config keys that point Flow at it. */
export async function postgresConfigFor(dataDir: string): Promise<Partial<FlowConfig>> {
  const name = databaseName(dataDir);
  await admin(async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await c.query(`CREATE DATABASE ${name}`);
  });
  return { 'database.dialect': 'postgres', 'database.connection': withDbName(serverConnection(), name) };
}

/** Drops the server's database (after the server closed). */
export async function dropDatabaseFor(dataDir: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${databaseName(dataDir)} WITH (FORCE)`));
}
