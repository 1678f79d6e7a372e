import type { SourceSchema } from './schema.js';

/** One row as the driver returns it; values are normalised by `values.ts`. */
export type Row = Record<string, unknown>;

export type Dialect = 'sqlite3' | 'mysql' | 'postgres';

/**
 * Read-only access to a Gotify database. Rows are read in pages by id (keyset paging), so a
 * table of millions of messages never sits in memory and every dialect uses the same query.
 */
export interface GotifySource {
  readonly dialect: Dialect;
  /** What is being read, safe to print (never a password). */
  readonly description: string;
  /**
   * How DATETIME columns without a zone are to be read (MySQL): Gotify writes them in the
   * zone of its DSN's `loc` parameter. `local` or `utc`; other dialects store the zone.
   */
  readonly naiveTimeZone: 'local' | 'utc';
  /** Table name → column names, lower-case. */
  schema(): Promise<SourceSchema>;
  /** Up to `limit` rows with id > `afterId`, ordered by id. */
  page(table: string, columns: readonly string[], afterId: number, limit: number): Promise<Row[]>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

export class SourceError extends Error {}
