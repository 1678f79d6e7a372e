import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { SourceSchema } from './schema.js';
import { SourceError, type GotifySource, type Row } from './source.js';

const quote = (name: string) => '"' + name.replace(/"/g, '""') + '"';

/** Gotify's default database (`data/gotify.db`), opened read-only: the source is never changed. */
export function openSqlite(file: string): GotifySource {
  if (!existsSync(file)) throw new SourceError(`SQLite database ${file} does not exist`);
  if (!statSync(file).isFile()) throw new SourceError(`SQLite database ${file} is not a file`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    // Reading the schema is the first access to the file's content: a corrupt or non-SQLite file fails here.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    throw new SourceError(`${file} is not a readable SQLite database: ${(err as Error).message}`);
  }
  const wrap = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new SourceError(`reading ${what} from ${file} failed: ${(err as Error).message}`);
    }
  };
  return {
    dialect: 'sqlite3',
    description: `SQLite database ${file}`,
    naiveTimeZone: 'utc',
    async schema() {
      return wrap('the schema', () => {
        const out: SourceSchema = new Map();
        const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
        for (const { name } of tables) {
          const cols = db.prepare(`PRAGMA table_info(${quote(name)})`).all() as { name: string }[];
          out.set(name.toLowerCase(), cols.map((c) => c.name.toLowerCase()));
        }
        return out;
      });
    },
    async page(table, columns, afterId, limit) {
      return wrap(table, () =>
        db
          .prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)} WHERE id > ? ORDER BY id LIMIT ?`)
          .all(afterId, limit) as Row[],
      );
    },
    async count(table) {
      return wrap(table, () => (db.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n);
    },
    async close() {
      db.close();
    },
  };
}
