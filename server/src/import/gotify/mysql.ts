import mysql from 'mysql2/promise';
import { SourceError, type GotifySource } from './source.js';
import { sqlServerSource } from './sql-server.js';

const quote = (name: string) => '`' + name.replace(/`/g, '``') + '`';

export interface MysqlTarget {
  options: mysql.ConnectionOptions;
  where: string;
  /** Gotify's DSN `loc` parameter: DATETIME values are in this zone. */
  zone: 'local' | 'utc';
}

/**
 * Gotify's MySQL connection string is a Go DSN (`user:pass@tcp(host:3306)/gotifydb?charset=utf8&parseTime=True&loc=Local`,
 * or `@unix(/path/to/socket)`); a `mysql://` URL is accepted too.
 */
export function parseMysqlConnection(connection: string): MysqlTarget {
  if (/^mysql:\/\//i.test(connection)) {
    const u = new URL(connection);
    const zone = u.searchParams.get('loc') === 'Local' ? 'local' : 'utc';
    return {
      options: {
        host: u.hostname || 'localhost',
        port: u.port ? Number(u.port) : 3306,
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        database: decodeURIComponent(u.pathname.slice(1)),
      },
      where: `${u.hostname || 'localhost'}:${u.port || 3306}${u.pathname}`,
      zone,
    };
  }
  const slash = connection.lastIndexOf('/');
  if (slash < 0) throw new SourceError('bad MySQL connection string: expected user:pass@tcp(host:port)/dbname');
  const head = connection.slice(0, slash);
  const [dbName, query = ''] = connection.slice(slash + 1).split('?', 2) as [string, string?];
  const at = head.lastIndexOf('@');
  const userInfo = at >= 0 ? head.slice(0, at) : '';
  const netAddr = at >= 0 ? head.slice(at + 1) : head;
  const colon = userInfo.indexOf(':');
  const user = colon >= 0 ? userInfo.slice(0, colon) : userInfo;
  const password = colon >= 0 ? userInfo.slice(colon + 1) : undefined;
  const m = /^(\w*)(?:\((.*)\))?$/.exec(netAddr);
  if (!m) throw new SourceError(`bad MySQL connection string: cannot read the address "${netAddr}"`);
  const net = m[1] || 'tcp';
  const addr = m[2] ?? '';
  const params = new URLSearchParams(query);
  const zone = params.get('loc') === 'Local' ? 'local' : 'utc';
  const options: mysql.ConnectionOptions = { user: user || undefined, password, database: dbName };
  let where: string;
  if (net === 'unix') {
    options.socketPath = addr;
    where = `${addr}/${dbName}`;
  } else {
    const i = addr.lastIndexOf(':');
    options.host = (i >= 0 ? addr.slice(0, i) : addr) || '127.0.0.1';
    options.port = i >= 0 ? Number(addr.slice(i + 1)) : 3306;
    where = `${options.host}:${options.port}/${dbName}`;
  }
  return { options, where, zone };
}

/** A Gotify MySQL/MariaDB database, read inside one read-only transaction (a consistent snapshot). */
export async function openMysql(connection: string): Promise<GotifySource> {
  const { options, where, zone } = parseMysqlConnection(connection);
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({ ...options, dateStrings: true, supportBigNumbers: true, bigNumberStrings: false, connectTimeout: 10_000 });
    conn.on('error', () => undefined);
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  } catch (err) {
    throw new SourceError(`cannot connect to MySQL at ${where}: ${(err as Error).message}`);
  }
  return sqlServerSource({
    dialect: 'mysql',
    product: 'MySQL',
    where,
    naiveTimeZone: zone,
    currentSchema: 'DATABASE()',
    pageParams: ['?', '?'],
    quote,
    query: async (sql, values) => (await conn.query(sql, values))[0] as unknown[],
    end: () => conn.end(),
  });
}
