import pg from 'pg';
import { SourceError, type GotifySource } from './source.js';
import { sqlServerSource } from './sql-server.js';
import { ConnectionStringError, pgClientConfig } from '../../lib/pg-connection.js';

export { parseKeyValueConnection } from '../../lib/pg-connection.js';

function clientConfig(connection: string): ReturnType<typeof pgClientConfig> {
  try {
    return pgClientConfig(connection);
  } catch (err) {
    if (err instanceof ConnectionStringError) throw new SourceError(err.message);
    throw err;
  }
}

const quote = (name: string) => '"' + name.replace(/"/g, '""') + '"';

/** A Gotify PostgreSQL database, read inside one read-only transaction (a consistent snapshot). */
export async function openPostgres(connection: string): Promise<GotifySource> {
  const { config, where } = clientConfig(connection);
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 10_000 });
  // A dropped connection emits 'error' on the client; the pending query rejects with it as well.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new SourceError(`cannot connect to PostgreSQL at ${where}: ${(err as Error).message}`);
  }
  return sqlServerSource({
    dialect: 'postgres',
    product: 'PostgreSQL',
    where,
    naiveTimeZone: 'utc',
    currentSchema: 'current_schema()',
    pageParams: ['$1', '$2'],
    quote,
    query: async (text, values) => (await client.query(text, values)).rows,
    end: () => client.end(),
  });
}
