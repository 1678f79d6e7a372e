import pg from 'pg';
import { schemaFromColumns } from './schema.js';
import { SourceError, type GotifySource, type Row } from './source.js';

const quote = (name: string) => '"' + name.replace(/"/g, '""') + '"';

/**
 * libpq's `key=value` connection string, as Gotify's `database.connection` for postgres
 * (e.g. `host=db port=5432 user=gotify dbname=gotifydb password=secret sslmode=disable`);
 * values may be single-quoted with `\'` and `\\` escapes.
 */
export function parseKeyValueConnection(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) return out;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new SourceError(`bad PostgreSQL connection string: "${text.slice(i).split(/\s/)[0]}" has no '='`);
    const key = text.slice(i, eq).trim();
    i = eq + 1;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      if (text[i] !== "'") throw new SourceError('bad PostgreSQL connection string: unterminated quote');
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
    }
    out[key] = value;
  }
}

function clientConfig(connection: string): { config: pg.ClientConfig; where: string } {
  if (/^postgres(ql)?:\/\//i.test(connection)) {
    const u = new URL(connection);
    return { config: { connectionString: connection }, where: `${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname}` };
  }
  const kv = parseKeyValueConnection(connection);
  const ssl = kv.sslmode === undefined || kv.sslmode === 'disable' ? false : kv.sslmode === 'require' ? { rejectUnauthorized: false } : true;
  const config: pg.ClientConfig = {
    host: kv.host ?? kv.hostaddr,
    port: kv.port === undefined ? undefined : Number(kv.port),
    user: kv.user,
    password: kv.password,
    database: kv.dbname,
    ssl,
  };
  return { config, where: `${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}` };
}

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
