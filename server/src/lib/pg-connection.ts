import type pg from 'pg';

/** A PostgreSQL connection string that cannot be read. */
export class ConnectionStringError extends Error {}

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
    if (eq < 0) throw new ConnectionStringError(`bad PostgreSQL connection string: "${text.slice(i).split(/\s/)[0]}" has no '='`);
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
      if (text[i] !== "'") throw new ConnectionStringError('bad PostgreSQL connection string: unterminated quote');
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

export function pgClientConfig(connection: string): { config: pg.ClientConfig; where: string } {
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

