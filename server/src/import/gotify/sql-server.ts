import { schemaFromColumns } from './schema.js';
import { SourceError, type GotifySource, type Row } from './source.js';

/** What a Gotify database on a server (MySQL, PostgreSQL) differs in, for `sqlServerSource`. */
export interface SqlServer {
  dialect: 'mysql' | 'postgres';
  /** The product's name, for messages: `MySQL`, `PostgreSQL`. */
  product: string;
  /** Host, port and database, safe to print. */
  where: string;
  naiveTimeZone: 'local' | 'utc';
  /** The SQL function naming the schema Gotify's tables are in. */
  currentSchema: string;
  /** The page query's two placeholders: the id to start after, the row limit. */
  pageParams: [string, string];
  quote(name: string): string;
  /** One query inside the read-only snapshot transaction; its rows. */
  query(sql: string, values: unknown[]): Promise<unknown[]>;
  /** Closes the connection. */
  end(): Promise<void>;
}

/**
 * A Gotify database on MySQL or PostgreSQL, read inside the one read-only transaction the
 * caller opened: both answer the same information_schema and keyset-paging queries.
 */
export function sqlServerSource(server: SqlServer): GotifySource {
  const { quote, where, product } = server;
  const run = async <T>(what: string, sql: string, values: unknown[] = []): Promise<T[]> => {
    try {
      return (await server.query(sql, values)) as T[];
    } catch (err) {
      throw new SourceError(`reading ${what} from ${product} at ${where} failed: ${(err as Error).message}`);
    }
  };
  const [afterParam, limitParam] = server.pageParams;
  return {
    dialect: server.dialect,
    description: `${product} database at ${where}`,
    naiveTimeZone: server.naiveTimeZone,
    async schema() {
      const rows = await run<{ t: string; c: string }>(
        'the schema',
        `SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = ${server.currentSchema} ORDER BY table_name, ordinal_position`,
      );
      return schemaFromColumns(rows);
    },
    async page(table, columns, afterId, limit) {
      return run<Row>(table, `SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)} WHERE id > ${afterParam} ORDER BY id LIMIT ${limitParam}`, [afterId, limit]);
    },
    async count(table) {
      // MySQL answers a number, PostgreSQL's bigint count a string.
      return Number((await run<{ n: number | string }>(table, `SELECT count(*) AS n FROM ${quote(table)}`))[0]!.n);
    },
    async close() {
      await server.query('ROLLBACK', []).catch(() => undefined);
      await server.end().catch(() => undefined);
    },
  };
}
