import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ApplicationRecord } from '../../model/application.js';
import type { ClientRecord } from '../../model/client.js';
import type { MessageRecord } from '../../model/message.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { UserRecord } from '../../model/user.js';
import type { Op } from '../../store/level/db.js';
import { keyAfter } from '../../store/sort-key.js';
import { LevelStore } from '../../store/level/level-store.js';
import { ImportNotes, type NoteGroup } from './notes.js';
import { openMysql } from './mysql.js';
import { openPostgres } from './postgres.js';
import { checkSchema, type GotifyTable } from './schema.js';
import { SourceError, type Dialect, type GotifySource, type Row } from './source.js';
import { openSqlite } from './sqlite.js';
import { toBool, toBytes, toInt, toIsoTime, toText } from './values.js';

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

/** Gotify's bcrypt hashes ($2a$, as golang.org/x/crypto/bcrypt writes them) verify unchanged. */
const BCRYPT = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/;

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

async function* pages(source: GotifySource, table: GotifyTable, columns: readonly string[], size: number): AsyncGenerator<Row[]> {
  let after = 0;
  while (true) {
    const rows = await source.page(table, columns, after, size);
    if (rows.length === 0) return;
    yield rows;
    after = toInt(rows[rows.length - 1]!.id);
    if (rows.length < size) return;
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
    const write = async (ops: Op[]) => {
      if (store && ops.length > 0) await store.db.batch(ops);
    };
    const zone = source.naiveTimeZone;
    const now = new Date().toISOString();
    const maxIds = { user: 0, application: 0, client: 0, message: 0, pluginconf: 0 };

    // Users.
    const users = new Set<number>();
    for await (const rows of pages(source, 'users', columns.users, batchSize)) {
      const ops: Op[] = [];
      for (const r of rows) {
        const rec: UserRecord = { id: toInt(r.id), name: toText(r.name), passHash: toText(r.pass), admin: toBool(r.admin) };
        if (!BCRYPT.test(rec.passHash)) {
          notes.add('password is not a bcrypt hash: the user cannot log in until an admin sets a new password', rec.name);
        }
        if (r.oidc_id !== undefined && r.oidc_id !== null && toText(r.oidc_id) !== '') {
          notes.add('OIDC identity link not carried (Flow has no OIDC sign-in yet): the user logs in with a password', rec.name);
        }
        users.add(rec.id);
        maxIds.user = Math.max(maxIds.user, rec.id);
        ops.push(...(store?.users.importOps(rec) ?? []));
        counts.users++;
      }
      await write(ops);
    }

    // Applications: all in memory (few), because missing sort keys are assigned per user in order.
    const apps: { row: Row; rec: ApplicationRecord }[] = [];
    for await (const rows of pages(source, 'applications', columns.applications, batchSize)) {
      for (const r of rows) {
        const rec: ApplicationRecord = {
          id: toInt(r.id),
          userId: toInt(r.user_id),
          token: toText(r.token),
          name: toText(r.name),
          description: toText(r.description),
          internal: toBool(r.internal),
          image: '',
          defaultPriority: toInt(r.default_priority),
          lastUsed: toIsoTime(r.last_used, zone),
          sortKey: toText(r.sort_key),
        };
        maxIds.application = Math.max(maxIds.application, rec.id);
        if (!users.has(rec.userId)) {
          notes.add('application of a user that no longer exists (its messages are skipped too)', `#${rec.id} ${rec.name}`);
          continue;
        }
        apps.push({ row: r, rec });
      }
    }
    // Gotify's fillMissingSortKeys: when any key is missing, every app gets a new one per user, ordered by (sort_key, id).
    if (apps.some((a) => a.rec.sortKey === '')) {
      const ordered = [...apps].sort((a, b) => a.rec.userId - b.rec.userId || (a.rec.sortKey < b.rec.sortKey ? -1 : a.rec.sortKey > b.rec.sortKey ? 1 : a.rec.id - b.rec.id));
      let user = -1;
      let key = '';
      for (const a of ordered) {
        if (a.rec.userId !== user) [user, key] = [a.rec.userId, ''];
        key = keyAfter(key);
        a.rec.sortKey = key;
      }
    }
    const appOwner = new Map<number, number>();
    for (const { row, rec } of apps) {
      const image = toText(row.image);
      if (image !== '') {
        if (image !== path.basename(image) || image.startsWith('.')) {
          notes.add('image file name is not a plain file name: imported with the default image', `#${rec.id} ${rec.name}: ${image}`);
        } else if (imagesDir === undefined) {
          notes.add('image not copied (give --images with Gotify\'s image folder): imported with the default image', `#${rec.id} ${rec.name}: ${image}`);
        } else {
          const from = path.join(imagesDir, image);
          const found = await stat(from).then((s) => s.isFile(), () => false);
          if (!found) {
            notes.add(`image file missing in ${imagesDir}: imported with the default image`, `#${rec.id} ${rec.name}: ${image}`);
          } else {
            if (tmp) await copyFile(from, path.join(tmp, 'images', image));
            rec.image = image;
            counts.images++;
          }
        }
      }
      appOwner.set(rec.id, rec.userId);
      counts.applications++;
    }
    if (columns.users.includes('created_at') && counts.users > 0) {
      notes.add("users' createdAt not kept (Flow's user has no creation date)", `${counts.users} users`);
    }
    if (columns.applications.includes('created_at')) {
      if (apps.length > 0) notes.add("applications' createdAt not kept (Flow's application has no creation date)", `${apps.length} applications`);
    }
    for (let i = 0; i < apps.length; i += batchSize) await write(apps.slice(i, i + batchSize).flatMap((a) => store?.applications.importOps(a.rec) ?? []));

    // Clients.
    for await (const rows of pages(source, 'clients', columns.clients, batchSize)) {
      const ops: Op[] = [];
      for (const r of rows) {
        const rec: ClientRecord = { id: toInt(r.id), userId: toInt(r.user_id), token: toText(r.token), name: toText(r.name), lastUsed: toIsoTime(r.last_used, zone) };
        maxIds.client = Math.max(maxIds.client, rec.id);
        if (!users.has(rec.userId)) {
          notes.add('client of a user that no longer exists', `#${rec.id} ${rec.name}`);
          continue;
        }
        const createdAt = toIsoTime(r.created_at, zone);
        if (createdAt) rec.createdAt = createdAt;
        const inactivity = toInt(r.expires_after_inactivity_seconds);
        if (inactivity > 0) rec.expiresAfterInactivitySeconds = inactivity;
        const elevatedUntil = toIsoTime(r.elevated_until, zone);
        if (elevatedUntil) rec.elevatedUntil = elevatedUntil;
        const expiresAt = toIsoTime(r.expires_at, zone);
        if (expiresAt !== null && expiresAt < now) {
          notes.add('expired session (a Gotify 3 login that timed out): not imported', `#${rec.id} ${rec.name}`);
          continue;
        }
        ops.push(...(store?.clients.importOps(rec) ?? []));
        counts.clients++;
      }
      await write(ops);
    }

    // Plugin confs, by module path: a plugin with the same module path picks them up.
    for await (const rows of pages(source, 'plugin_confs', columns.plugin_confs, batchSize)) {
      const ops: Op[] = [];
      for (const r of rows) {
        const rec: PluginConfRecord = {
          id: toInt(r.id),
          userId: toInt(r.user_id),
          modulePath: toText(r.module_path),
          token: toText(r.token),
          applicationId: toInt(r.application_id),
          enabled: toBool(r.enabled),
          config: toText(r.config),
          createdAt: toIsoTime(r.created_at, zone) ?? now,
        };
        maxIds.pluginconf = Math.max(maxIds.pluginconf, rec.id);
        if (!users.has(rec.userId)) {
          notes.add('plugin conf of a user that no longer exists', `#${rec.id} ${rec.modulePath}`);
          continue;
        }
        if (rec.applicationId !== 0 && appOwner.get(rec.applicationId) !== rec.userId) {
          notes.add("plugin conf's internal application no longer exists: the plugin gets a new one when it starts", `#${rec.id} ${rec.modulePath}`);
          rec.applicationId = 0;
        }
        ops.push(...(store?.pluginConfs.importOps(rec, toBytes(r.storage)) ?? []));
        counts.pluginConfs++;
      }
      await write(ops);
    }

    // Messages, streamed page by page.
    let nextProgress = 100_000;
    for await (const rows of pages(source, 'messages', columns.messages, batchSize)) {
      const ops: Op[] = [];
      for (const r of rows) {
        const id = toInt(r.id);
        maxIds.message = Math.max(maxIds.message, id);
        const appId = toInt(r.application_id);
        const userId = appOwner.get(appId);
        if (userId === undefined) {
          notes.add('message of an application that no longer exists', `#${id}`);
          continue;
        }
        const rec: MessageRecord = {
          id,
          appId,
          userId,
          message: toText(r.message),
          title: toText(r.title),
          priority: toInt(r.priority),
          date: toIsoTime(r.date, zone) ?? now,
        };
        if (toIsoTime(r.date, zone) === null) notes.add('message date unreadable: set to the import time', `#${id}: ${toText(r.date)}`);
        const extrasText = toText(r.extras).trim();
        if (extrasText !== '' && extrasText !== 'null') {
          let extras: unknown;
          try {
            extras = JSON.parse(extrasText);
          } catch {
            extras = undefined;
          }
          if (extras === undefined || typeof extras !== 'object' || extras === null || Array.isArray(extras)) {
            notes.add('message extras are not a JSON object: imported without extras', `#${id}`);
          } else if (Object.keys(extras).length > 0) {
            rec.extras = extras as Record<string, unknown>;
          }
        }
        ops.push(...(store?.messages.importOps(rec) ?? []));
        counts.messages++;
      }
      await write(ops);
      if (counts.messages >= nextProgress) {
        opts.progress?.(`${counts.messages} messages`);
        nextProgress += 100_000;
      }
    }

    if (store) {
      await write(Object.entries(maxIds).map(([entity, id]) => store!.db.sequenceOp(entity, id)));
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
