import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LevelStore } from '../../store/level/level-store.js';
import { ImportNotes, type NoteGroup } from './notes.js';
import { openMysql } from './mysql.js';
import { openPostgres } from './postgres.js';
import { checkSchema } from './schema.js';
import { SourceError, type Dialect, type GotifySource } from './source.js';
import { openSqlite } from './sqlite.js';
import { importApplications, importClients, importMessages, importPluginConfs, importUsers, type ImportRun } from './tables.js';

export interface ImportOptions {
  /** A SQLite file, or a MySQL / PostgreSQL connection string as in Gotify's `database.connection`. */
  database: string;
  /** Gotify's `database.dialect`; guessed from `database` when absent. */
  dialect?: Dialect;
  /** Gotify's image folder (`uploadedimagesdir`); default for SQLite: `images/` beside the database file. */
  images?: string;
  /** The Flow data dir to create; must not exist or be empty. */
  datadir: string;
  /** Read and check everything, write nothing. */
  dryRun?: boolean;
  /** Rows per read and per LevelDB batch (default 5000). */
  batchSize?: number;
  /** Progress lines (e.g. every 100,000 messages). */
  progress?: (line: string) => void;
}

export interface ImportCounts {
  users: number;
  applications: number;
  clients: number;
  messages: number;
  pluginConfs: number;
  images: number;
}

export interface ImportReport {
  source: string;
  target: string;
  dryRun: boolean;
  counts: ImportCounts;
  /** What was not carried, with the reason. */
  notCarried: NoteGroup[];
}

/** A refusal before anything was written (bad arguments, non-empty target). */
export class ImportError extends Error {}

/** `--dialect` when given, else: a Go MySQL DSN or mysql:// URL, a libpq string or postgres:// URL, else a SQLite file. */
export function guessDialect(database: string): Dialect {
  if (/^mysql:\/\//i.test(database) || /@(tcp|unix)\(/.test(database)) return 'mysql';
  if (/^postgres(ql)?:\/\//i.test(database) || /(^|\s)(host|dbname|user)=/.test(database)) return 'postgres';
  return 'sqlite3';
}

export function openSource(database: string, dialect: Dialect): Promise<GotifySource> {
  switch (dialect) {
    case 'sqlite3':
      return openSqlite(database);
    case 'postgres':
      return openPostgres(database);
    case 'mysql':
      return openMysql(database);
  }
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new ImportError(`target ${dir} exists and is not a directory`);
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Imports a Gotify database into a new Flow data dir, keeping every id, token, password hash
 * and date. Everything is written into a sibling temporary directory which is renamed to
 * `datadir` only once complete, so a failure (or a kill) never leaves a half-written data dir.
 */
export async function importGotify(opts: ImportOptions): Promise<ImportReport> {
  const target = path.resolve(opts.datadir);
  const dryRun = opts.dryRun ?? false;
  const batchSize = opts.batchSize ?? 5000;
  if (!(await isEmptyOrMissing(target))) {
    throw new ImportError(`target data dir ${target} is not empty; choose a new --datadir (nothing was written)`);
  }
  const dialect = opts.dialect ?? guessDialect(opts.database);
  const imagesDir = opts.images ?? (dialect === 'sqlite3' ? path.join(path.dirname(path.resolve(opts.database)), 'images') : undefined);

  const source = await openSource(opts.database, dialect);
  let tmp: string | undefined;
  let store: LevelStore | undefined;
  try {
    const columns = checkSchema(await source.schema());
    const notes = new ImportNotes();
    const counts: ImportCounts = { users: 0, applications: 0, clients: 0, messages: 0, pluginConfs: 0, images: 0 };
    if (!dryRun) {
      await mkdir(path.dirname(target), { recursive: true });
      tmp = path.join(path.dirname(target), `.${path.basename(target)}.import-${process.pid}-${randomBytes(4).toString('hex')}`);
      await mkdir(path.join(tmp, 'images'), { recursive: true });
      store = await LevelStore.open(path.join(tmp, 'db'));
    }
    const maxIds = { user: 0, application: 0, client: 0, message: 0, pluginconf: 0 };

    const run: ImportRun = { source, columns, batchSize, notes, counts, store, tmp, imagesDir, now: new Date().toISOString(), maxIds, progress: opts.progress };
    const users = await importUsers(run);
    const appOwner = await importApplications(run, users);
    await importClients(run, users);
    await importPluginConfs(run, users, appOwner);
    await importMessages(run, appOwner);

    if (store) {
      await store.db.batch(Object.entries(maxIds).map(([entity, id]) => store!.db.sequenceOp(entity, id)));
      await store.close();
      store = undefined;
      // Checked again: another process may have filled the target meanwhile.
      if (!(await isEmptyOrMissing(target))) throw new ImportError(`target data dir ${target} is not empty any more; nothing was written`);
      await rmdir(target).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await rename(tmp!, target);
      tmp = undefined;
    }
    return { source: source.description, target, dryRun, counts, notCarried: notes.list() };
  } finally {
    await store?.close().catch(() => undefined);
    if (tmp) await rm(tmp, { recursive: true, force: true });
    await source.close();
  }
}

export { SourceError };
