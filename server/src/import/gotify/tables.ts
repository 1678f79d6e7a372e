import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ApplicationRecord } from '../../model/application.js';
import type { ClientRecord } from '../../model/client.js';
import type { MessageRecord } from '../../model/message.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { UserRecord } from '../../model/user.js';
import type { Op } from '../../store/level/ops.js';
import { keyAfter } from '../../store/sort-key.js';
import type { LevelStore } from '../../store/level/level-store.js';
import type { ImportNotes } from './notes.js';
import type { GotifyTable } from './schema.js';
import type { GotifySource, Row } from './source.js';
import { toBool, toBytes, toInt, toIsoTime, toText } from './values.js';

// One function per Gotify table: read it page by page, turn each row into Flow's record (or a
// note saying why it is not carried), write the page as one batch. They run in this order,
// because each needs what the earlier ones kept: users → applications → clients, plugin confs →
// messages.

/** What every table's import shares: the source, where to write, and what is counted and noted. */
export interface ImportRun {
  source: GotifySource;
  columns: Record<GotifyTable, string[]>;
  batchSize: number;
  notes: ImportNotes;
  counts: { users: number; applications: number; clients: number; messages: number; pluginConfs: number; images: number };
  /** Undefined for a dry run: everything is read and checked, nothing written. */
  store: LevelStore | undefined;
  /** The temporary data dir images are copied into (undefined for a dry run). */
  tmp: string | undefined;
  imagesDir: string | undefined;
  /** The import's start, for dates Gotify did not store. */
  now: string;
  /** The highest id seen per entity: Flow's id sequences continue from there. */
  maxIds: { user: number; application: number; client: number; message: number; pluginconf: number };
  progress?: (line: string) => void;
}

/** Gotify's bcrypt hashes ($2a$, as golang.org/x/crypto/bcrypt writes them) verify unchanged. */
const BCRYPT = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/;

async function write(run: ImportRun, ops: Op[]): Promise<void> {
  if (run.store && ops.length > 0) await run.store.db.batch(ops);
}

async function* pages(run: ImportRun, table: GotifyTable): AsyncGenerator<Row[]> {
  let after = 0;
  while (true) {
    const rows = await run.source.page(table, run.columns[table], after, run.batchSize);
    if (rows.length === 0) return;
    yield rows;
    after = toInt(rows[rows.length - 1]!.id);
    if (rows.length < run.batchSize) return;
  }
}

/** The columns every row of a user's token-holding entity has (applications, clients, plugin confs). */
function ownerAndToken(r: Row): { id: number; userId: number; token: string } {
  return { id: toInt(r.id), userId: toInt(r.user_id), token: toText(r.token) };
}

/** Users, by id; returns the ids, so rows of a deleted user are left out of the other tables. */
export async function importUsers(run: ImportRun): Promise<Set<number>> {
  const users = new Set<number>();
  for await (const rows of pages(run, 'users')) {
    const ops: Op[] = [];
    for (const r of rows) {
      const rec: UserRecord = { id: toInt(r.id), name: toText(r.name), passHash: toText(r.pass), admin: toBool(r.admin) };
      // Gotify 3's link to an OIDC identity (`<issuer>#<subject>`), kept as is: the user signs in with OIDC as before.
      const oidcId = r.oidc_id === undefined || r.oidc_id === null ? '' : toText(r.oidc_id);
      if (oidcId !== '') rec.oidcId = oidcId;
      // An OIDC user of Gotify 3 has no password (NULL): nothing to report.
      if (!BCRYPT.test(rec.passHash) && !(oidcId !== '' && rec.passHash === '')) {
        run.notes.add('password is not a bcrypt hash: the user cannot log in until an admin sets a new password', rec.name);
      }
      users.add(rec.id);
      run.maxIds.user = Math.max(run.maxIds.user, rec.id);
      ops.push(...(run.store?.users.importOps(rec) ?? []));
      run.counts.users++;
    }
    await write(run, ops);
  }
  return users;
}

/**
 * Applications: all in memory (few), because missing sort keys are assigned per user in
 * order; their images are copied. Returns each application's owner, for messages and confs.
 */
export async function importApplications(run: ImportRun, users: Set<number>): Promise<Map<number, number>> {
  const apps: { row: Row; rec: ApplicationRecord }[] = [];
  for await (const rows of pages(run, 'applications')) {
    for (const r of rows) {
      const rec: ApplicationRecord = {
        ...ownerAndToken(r),
        name: toText(r.name),
        description: toText(r.description),
        internal: toBool(r.internal),
        image: '',
        defaultPriority: toInt(r.default_priority),
        lastUsed: toIsoTime(r.last_used, run.source.naiveTimeZone),
        sortKey: toText(r.sort_key),
      };
      run.maxIds.application = Math.max(run.maxIds.application, rec.id);
      if (!users.has(rec.userId)) {
        run.notes.add('application of a user that no longer exists (its messages are skipped too)', `#${rec.id} ${rec.name}`);
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
    await importImage(run, rec, toText(row.image));
    appOwner.set(rec.id, rec.userId);
    run.counts.applications++;
  }
  if (run.columns.users.includes('created_at') && run.counts.users > 0) {
    run.notes.add("users' createdAt not kept (Flow's user has no creation date)", `${run.counts.users} users`);
  }
  if (run.columns.applications.includes('created_at')) {
    if (apps.length > 0) run.notes.add("applications' createdAt not kept (Flow's application has no creation date)", `${apps.length} applications`);
  }
  for (let i = 0; i < apps.length; i += run.batchSize) await write(run, apps.slice(i, i + run.batchSize).flatMap((a) => run.store?.applications.importOps(a.rec) ?? []));
  return appOwner;
}

/** Clients (and Gotify 3 sessions that have not expired). */
export async function importClients(run: ImportRun, users: Set<number>): Promise<void> {
  for await (const rows of pages(run, 'clients')) {
    const ops: Op[] = [];
    for (const r of rows) {
      const rec: ClientRecord = { ...ownerAndToken(r), name: toText(r.name), lastUsed: toIsoTime(r.last_used, run.source.naiveTimeZone) };
      run.maxIds.client = Math.max(run.maxIds.client, rec.id);
      if (!users.has(rec.userId)) {
        run.notes.add('client of a user that no longer exists', `#${rec.id} ${rec.name}`);
        continue;
      }
      const createdAt = toIsoTime(r.created_at, run.source.naiveTimeZone);
      if (createdAt) rec.createdAt = createdAt;
      const inactivity = toInt(r.expires_after_inactivity_seconds);
      if (inactivity > 0) rec.expiresAfterInactivitySeconds = inactivity;
      const elevatedUntil = toIsoTime(r.elevated_until, run.source.naiveTimeZone);
      if (elevatedUntil) rec.elevatedUntil = elevatedUntil;
      const expiresAt = toIsoTime(r.expires_at, run.source.naiveTimeZone);
      if (expiresAt !== null && expiresAt < run.now) {
        run.notes.add('expired session (a Gotify 3 login that timed out): not imported', `#${rec.id} ${rec.name}`);
        continue;
      }
      ops.push(...(run.store?.clients.importOps(rec) ?? []));
      run.counts.clients++;
    }
    await write(run, ops);
  }
}

/** Plugin confs, by module path: a plugin with the same module path picks them up. */
export async function importPluginConfs(run: ImportRun, users: Set<number>, appOwner: Map<number, number>): Promise<void> {
  for await (const rows of pages(run, 'plugin_confs')) {
    const ops: Op[] = [];
    for (const r of rows) {
      const rec: PluginConfRecord = {
        ...ownerAndToken(r),
        modulePath: toText(r.module_path),
        applicationId: toInt(r.application_id),
        enabled: toBool(r.enabled),
        config: toText(r.config),
        createdAt: toIsoTime(r.created_at, run.source.naiveTimeZone) ?? run.now,
      };
      run.maxIds.pluginconf = Math.max(run.maxIds.pluginconf, rec.id);
      if (!users.has(rec.userId)) {
        run.notes.add('plugin conf of a user that no longer exists', `#${rec.id} ${rec.modulePath}`);
        continue;
      }
      if (rec.applicationId !== 0 && appOwner.get(rec.applicationId) !== rec.userId) {
        run.notes.add("plugin conf's internal application no longer exists: the plugin gets a new one when it starts", `#${rec.id} ${rec.modulePath}`);
        rec.applicationId = 0;
      }
      ops.push(...(run.store?.pluginConfs.importOps(rec, toBytes(r.storage)) ?? []));
      run.counts.pluginConfs++;
    }
    await write(run, ops);
  }
}

/** Messages, streamed page by page, with a progress line every 100,000. */
export async function importMessages(run: ImportRun, appOwner: Map<number, number>): Promise<void> {
  let nextProgress = 100_000;
  for await (const rows of pages(run, 'messages')) {
    const ops: Op[] = [];
    for (const r of rows) {
      const id = toInt(r.id);
      run.maxIds.message = Math.max(run.maxIds.message, id);
      const appId = toInt(r.application_id);
      const userId = appOwner.get(appId);
      if (userId === undefined) {
        run.notes.add('message of an application that no longer exists', `#${id}`);
        continue;
      }
      const rec: MessageRecord = {
        id,
        appId,
        userId,
        message: toText(r.message),
        title: toText(r.title),
        priority: toInt(r.priority),
        date: toIsoTime(r.date, run.source.naiveTimeZone) ?? run.now,
      };
      if (toIsoTime(r.date, run.source.naiveTimeZone) === null) run.notes.add('message date unreadable: set to the import time', `#${id}: ${toText(r.date)}`);
      const extrasText = toText(r.extras).trim();
      if (extrasText !== '' && extrasText !== 'null') {
        let extras: unknown;
        try {
          extras = JSON.parse(extrasText);
        } catch {
          extras = undefined;
        }
        if (extras === undefined || typeof extras !== 'object' || extras === null || Array.isArray(extras)) {
          run.notes.add('message extras are not a JSON object: imported without extras', `#${id}`);
        } else if (Object.keys(extras).length > 0) {
          rec.extras = extras as Record<string, unknown>;
        }
      }
      ops.push(...(run.store?.messages.importOps(rec) ?? []));
      run.counts.messages++;
    }
    await write(run, ops);
    if (run.counts.messages >= nextProgress) {
      run.progress?.(`${run.counts.messages} messages`);
      nextProgress += 100_000;
    }
  }
}

/** An application's image, copied when its file is a plain name found in Gotify's image folder; else noted (the default image). */
async function importImage(run: ImportRun, rec: ApplicationRecord, image: string): Promise<void> {
  if (image === '') return;
  if (image !== path.basename(image) || image.startsWith('.')) {
    run.notes.add('image file name is not a plain file name: imported with the default image', `#${rec.id} ${rec.name}: ${image}`);
  } else if (run.imagesDir === undefined) {
    run.notes.add('image not copied (give --images with Gotify\'s image folder): imported with the default image', `#${rec.id} ${rec.name}: ${image}`);
  } else {
    const from = path.join(run.imagesDir, image);
    const found = await stat(from).then((s) => s.isFile(), () => false);
    if (!found) {
      run.notes.add(`image file missing in ${run.imagesDir}: imported with the default image`, `#${rec.id} ${rec.name}: ${image}`);
    } else {
      if (run.tmp) await copyFile(from, path.join(run.tmp, 'images', image));
      rec.image = image;
      run.counts.images++;
    }
  }
}
