import pg from 'pg';
import { schemaFromColumns } from './schema.js';
import { SourceError, type GotifySource, type Row } from './source.js';
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
  const run = async <T extends pg.QueryResultRow>(what: string, text: string, values: unknown[] = []): Promise<T[]> => {
    try {
      return (await client.query<T>(text, values)).rows;
    } catch (err) {
      throw new SourceError(`reading ${what} from PostgreSQL at ${where} failed: ${(err as Error).message}`);
    }
  };
  return {
    dialect: 'postgres',
    description: `PostgreSQL database at ${where}`,
    naiveTimeZone: 'utc',
    async schema() {
      const rows = await run<{ t: string; c: string }>(
        'the schema',
        'SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position',
      );
      return schemaFromColumns(rows);
    },
    async page(table, columns, afterId, limit) {
      return run<Row>(table, `SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)} WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit]);
    },
    async count(table) {
      return Number((await run<{ n: string }>(table, `SELECT count(*) AS n FROM ${quote(table)}`))[0]!.n);
    },
    async close() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
