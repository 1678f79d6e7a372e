import { describe, expect, it } from 'vitest';
import { parseMysqlConnection } from './mysql.js';
import { parseKeyValueConnection } from './postgres.js';
import { checkSchema } from './schema.js';
import { guessDialect } from './import.js';
import { toBool, toIsoTime, toText } from './values.js';

describe('Gotify column values', () => {
  it('reads times as each driver returns them', () => {
    // mattn/go-sqlite3's text of a time.Time, with nanoseconds and an offset.
    expect(toIsoTime('2025-06-01 10:30:00.123456789+02:00')).toBe('2025-06-01T08:30:00.123Z');
    expect(toIsoTime('2025-06-01T08:30:00Z')).toBe('2025-06-01T08:30:00.000Z');
    // Go's time.String(), as older GORM versions wrote it.
    expect(toIsoTime('2025-06-01 08:30:00.5 +0000 UTC')).toBe('2025-06-01T08:30:00.500Z');
    // pg gives a Date for timestamptz; MySQL DATETIME has no zone: Gotify's DSN loc decides.
    expect(toIsoTime(new Date('2025-06-01T08:30:00Z'))).toBe('2025-06-01T08:30:00.000Z');
    expect(toIsoTime('2025-06-01 08:30:00.250', 'utc')).toBe('2025-06-01T08:30:00.250Z');
    expect(toIsoTime('2025-06-01 08:30:00', 'local')).toBe(new Date(2025, 5, 1, 8, 30, 0).toISOString());
    expect(toIsoTime(Buffer.from('2025-06-01 08:30:00+00:00'))).toBe('2025-06-01T08:30:00.000Z');
    expect(toIsoTime(null)).toBeNull();
    expect(toIsoTime('yesterday')).toBeNull();
  });

  it('reads bools and bytes as GORM writes them', () => {
    expect([toBool(1), toBool(0), toBool(true), toBool('1'), toBool('t'), toBool(null)]).toEqual([true, false, true, true, true, false]);
    expect(toText(Buffer.from('$2a$10$x'))).toBe('$2a$10$x');
    expect(toText(null)).toBe('');
  });
});

describe('Gotify connection strings', () => {
  it('guesses the dialect from what Gotify\'s database.connection holds', () => {
    expect(guessDialect('data/gotify.db')).toBe('sqlite3');
    expect(guessDialect('host=db port=5432 user=gotify dbname=gotifydb password=secret')).toBe('postgres');
    expect(guessDialect('postgres://u:p@db/gotify')).toBe('postgres');
    expect(guessDialect('gotify:secret@tcp(db:3306)/gotifydb?charset=utf8&parseTime=True&loc=Local')).toBe('mysql');
    expect(guessDialect('mysql://u:p@db/gotify')).toBe('mysql');
  });

  it('parses libpq key=value strings with quotes and escapes', () => {
    expect(parseKeyValueConnection("host=db port=5432 user=gotify dbname='my db' password='it\\'s' sslmode=disable")).toEqual({
      host: 'db', port: '5432', user: 'gotify', dbname: 'my db', password: "it's", sslmode: 'disable',
    });
    expect(() => parseKeyValueConnection('host=db nonsense')).toThrow("has no '='");
  });

  it('parses Go MySQL DSNs (password with @, unix sockets, loc)', () => {
    const t = parseMysqlConnection('gotify:p@ss@tcp(db.local:3307)/gotifydb?charset=utf8mb4&parseTime=True&loc=Local');
    expect(t.options).toMatchObject({ user: 'gotify', password: 'p@ss', host: 'db.local', port: 3307, database: 'gotifydb' });
    expect(t.zone).toBe('local');
    expect(t.where).toBe('db.local:3307/gotifydb');
    const u = parseMysqlConnection('root@unix(/run/mysqld/mysqld.sock)/gotify');
    expect(u.options).toMatchObject({ user: 'root', socketPath: '/run/mysqld/mysqld.sock', database: 'gotify' });
    expect(u.zone).toBe('utc');
  });
});

describe('schema check', () => {
  const gotify29 = new Map([
    ['users', ['id', 'name', 'pass', 'admin']],
    ['applications', ['id', 'token', 'user_id', 'name', 'description', 'internal', 'image', 'default_priority', 'last_used', 'sort_key']],
    ['clients', ['id', 'token', 'user_id', 'name', 'last_used']],
    ['messages', ['id', 'application_id', 'message', 'title', 'priority', 'extras', 'date']],
    ['plugin_confs', ['id', 'user_id', 'module_path', 'token', 'application_id', 'enabled', 'config', 'storage']],
  ]);

  it('accepts Gotify 2.9 and reads only the columns present', () => {
    const read = checkSchema(gotify29);
    expect(read.clients).toEqual(['id', 'token', 'user_id', 'name', 'last_used']);
  });

  it('names missing tables, missing columns and unknown columns', () => {
    expect(() => checkSchema(new Map([['notes', ['id']]]))).toThrow('not a Gotify database: none of its tables');
    const noName = new Map(gotify29);
    noName.set('users', ['id', 'pass', 'admin']);
    expect(() => checkSchema(noName)).toThrow('missing column users.name');
    const newer = new Map(gotify29);
    newer.set('clients', [...gotify29.get('clients')!, 'passkey']);
    expect(() => checkSchema(newer)).toThrow('unknown column clients.passkey');
  });
});
