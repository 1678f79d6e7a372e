/**
 * Vitest global setup of `vitest.postgres.config.ts`: one PostgreSQL 15 server (Debian's
 * package, a temp dir, a free loopback port; `db-servers.ts`) for the whole run. Test servers
 * each get a database of their own on it (`test-database.ts`).
 */
import { startPostgres } from './db-servers.js';

export default async function setup(): Promise<() => Promise<void>> {
  const server = await startPostgres();
  process.env.FLOW_TEST_PG_CONNECTION = server.connection;
  process.env.FLOW_TEST_DATABASE = 'postgres';
  return () => server.stop();
}
