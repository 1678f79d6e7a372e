/**
 * Gotify databases for import tests, built from Gotify's schema: the tables and indexes GORM's
 * AutoMigrate creates from gotify/server's model/*.go (2.9.1 and 3.0), in each dialect, filled
 * with rows written the way Gotify's drivers write them (SQLite times as mattn/go-sqlite3's text,
 * bools as 0/1, []byte as BLOB/bytea, bcrypt hashes made by Go's golang.org/x/crypto/bcrypt).
 *
 *   const fx = gotifyFixture('3.0');
 *   await writeGotifySqlite('/tmp/x/gotify.db', '3.0', fx);   // + fx.images under /tmp/x/images
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { newEnhancedToken } from '../../server/src/services/enhanced-token.js';

export type GotifyVersion = '2.9' | '3.0';
export type SqlDialect = 'sqlite3' | 'postgres' | 'mysql';

type Value = string | number | boolean | Date | Buffer | null;
export type Rows = Record<string, Record<string, Value>[]>;

/** Column type per dialect: [sqlite, postgres, mysql]. */
const T = {
  pk: ['integer PRIMARY KEY AUTOINCREMENT', 'bigserial', 'bigint unsigned AUTO_INCREMENT'],
  uint: ['integer', 'bigint', 'bigint unsigned'],
  int: ['integer', 'bigint', 'bigint'],
  bool: ['numeric', 'boolean', 'boolean'],
  text: ['text', 'text', 'longtext'],
  varchar: ['varchar(180)', 'varchar(180)', 'varchar(180)'],
  blob: ['blob', 'bytea', 'longblob'],
  bytes: ['bytes', 'bytea', 'longblob'],
  time: ['datetime', 'timestamptz', 'datetime(3)'],
} as const;
type ColType = keyof typeof T;

interface TableDef {
  columns: [string, ColType, ('3.0' | 'notnull0')?][];
  indexes: [name: string, unique: boolean, cols: string[], ('3.0')?][];
}

/** gotify/server model/*.go as GORM maps it; entries marked 3.0 are Gotify 3's additions. */
const TABLES: Record<string, TableDef> = {
  users: {
    columns: [['id', 'pk'], ['name', 'varchar'], ['pass', 'blob'], ['admin', 'bool'], ['created_at', 'time', '3.0'], ['oidc_id', 'text', '3.0']],
    indexes: [['uix_users_name', true, ['name']], ['uix_users_oidc_id', true, ['oidc_id'], '3.0']],
  },
  applications: {
    columns: [
      ['id', 'pk'], ['token', 'varchar'], ['user_id', 'uint'], ['name', 'text'], ['description', 'text'], ['internal', 'bool'], ['image', 'text'],
      ['default_priority', 'int'], ['created_at', 'time', '3.0'], ['last_used', 'time'], ['sort_key', 'bytes'],
    ],
    indexes: [['uix_applications_token', true, ['token']], ['idx_applications_user_id', false, ['user_id']], ['uix_application_user_id_sort_key', true, ['user_id', 'sort_key']]],
  },
  messages: {
    columns: [['id', 'pk'], ['application_id', 'uint'], ['message', 'text'], ['title', 'text'], ['priority', 'int'], ['extras', 'blob'], ['date', 'time']],
    indexes: [['idx_messages_id', false, ['id']]],
  },
  clients: {
    columns: [
      ['id', 'pk'], ['token', 'varchar'], ['user_id', 'uint'], ['name', 'text'], ['created_at', 'time', '3.0'], ['last_used', 'time'],
      ['elevated_until', 'time', '3.0'], ['expires_after_inactivity_seconds', 'uint', '3.0'], ['expires_at', 'time', '3.0'],
    ],
    indexes: [['uix_clients_token', true, ['token']], ['idx_clients_user_id', false, ['user_id']], ['idx_clients_expires_at', false, ['expires_at'], '3.0']],
  },
  plugin_confs: {
    columns: [
      ['id', 'pk'], ['user_id', 'uint'], ['module_path', 'text'], ['token', 'varchar'], ['application_id', 'uint'], ['enabled', 'bool'],
      ['created_at', 'time', '3.0'], ['config', 'blob'], ['storage', 'blob'],
    ],
    indexes: [['uix_plugin_confs_token', true, ['token']]],
  },
};

const dialectIndex = { sqlite3: 0, postgres: 1, mysql: 2 } as const;

function q(d: SqlDialect, name: string): string {
  return d === 'mysql' ? '`' + name + '`' : d === 'sqlite3' ? '`' + name + '`' : '"' + name + '"';
}

export function columnsOf(table: string, version: GotifyVersion): string[] {
  return TABLES[table]!.columns.filter(([, , v]) => v !== '3.0' || version === '3.0').map(([c]) => c);
}

/** The DDL GORM's AutoMigrate runs for Gotify `version` in `dialect`. */
export function gotifySchemaSql(d: SqlDialect, version: GotifyVersion): string[] {
  const out: string[] = [];
  for (const [table, def] of Object.entries(TABLES)) {
    const cols = def.columns
      .filter(([, , v]) => v !== '3.0' || version === '3.0')
      .map(([c, t]) => `${q(d, c)} ${T[t][dialectIndex[d]]}${c === 'expires_after_inactivity_seconds' ? ' NOT NULL DEFAULT 0' : ''}`);
    if (d !== 'sqlite3') cols.push(`PRIMARY KEY (${q(d, 'id')})`);
    out.push(`CREATE TABLE ${q(d, table)} (${cols.join(',')})`);
    for (const [name, unique, icols, v] of def.indexes) {
      if (v === '3.0' && version !== '3.0') continue;
      // MySQL cannot index BLOB/TEXT columns without a prefix length (GORM adds length:255/512).
      const list = icols.map((c) => (d === 'mysql' && ['sort_key', 'oidc_id'].includes(c) ? `${q(d, c)}(255)` : q(d, c))).join(',');
      out.push(`CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${q(d, name)} ON ${q(d, table)}(${list})`);
    }
  }
  return out;
}

/** Go's bcrypt.GenerateFromPassword(cost 4) output for these passwords ($2a$, as Gotify stores them). */
export const GO_BCRYPT = {
  admin: '$2a$04$Ekxd6Qda52OM7Oe73V/YSOxxonGZ5iELugyxQgG3pQiDRTnHwpnKW',
  'alice-pw': '$2a$04$TLw8.e.C5xGK3lHKFrXWnuev67Nb8sMXoJzyf8zAnxZR7cbICBS3C',
  'bob-pw': '$2a$04$4j6yWOpgkjxL22HwIHKD2Oe/BWhtMBqfnPyKI0gZv1sk2Q1gX0drS',
} as const;

/** A 1×1 PNG (Gotify accepts png/jpg/gif application images). */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

export interface GotifyFixture {
  rows: Rows;
  /** Files in Gotify's image folder. */
  images: Record<string, Buffer>;
  /** Tokens as their owners hold them (for enhanced tokens: the private form). */
  held: { adminClient: string; aliceClient: string; backupApp: string; aliceApp: string; expiredSession: string };
  /** Ids of the messages that must arrive, newest first, per user. */
  messageIds: { admin: number[]; alice: number[] };
  echoStorage: Buffer;
}

const at = (iso: string) => new Date(iso);

/**
 * Users admin/alice/bob, applications (one with an image, one whose image file is missing,
 * one internal for the echo plugin, one of a deleted user), clients (3.0: an enhanced one and an
 * expired session), `messages` messages with gaps (deleted ones), extras, one with broken extras
 * and one of a deleted application, and the echo plugin's confs with config and storage.
 */
export function gotifyFixture(version: GotifyVersion, messages = 300): GotifyFixture {
  const v3 = version === '3.0';
  const aliceClient = v3 ? newEnhancedToken('c') : { publicForm: 'CaliceClient.-_', privateForm: 'CaliceClient.-_' };
  const aliceApp = v3 ? newEnhancedToken('a') : { publicForm: 'AaliceApp..-_9x', privateForm: 'AaliceApp..-_9x' };
  const expired = newEnhancedToken('c');
  const created = v3 ? { created_at: at('2025-01-01T10:00:00.123Z') } : {};
  const rows: Rows = {
    users: [
      { id: 1, name: 'admin', pass: Buffer.from(GO_BCRYPT.admin), admin: true, ...created, ...(v3 ? { oidc_id: null } : {}) },
      { id: 2, name: 'alice', pass: Buffer.from(GO_BCRYPT['alice-pw']), admin: false, ...created, ...(v3 ? { oidc_id: null } : {}) },
      { id: 4, name: 'bob', pass: Buffer.from(GO_BCRYPT['bob-pw']), admin: true, ...created, ...(v3 ? { oidc_id: 'https://idp.example|bob-sub' } : {}) },
    ],
    applications: [
      { id: 1, token: 'AbackupToken.1x', user_id: 1, name: 'backup', description: 'nightly backup', internal: false, image: 'img-backup.png', default_priority: 4, ...created, last_used: at('2025-06-01T08:30:00.5Z'), sort_key: Buffer.from('a1') },
      { id: 2, token: 'AmonitorTok-_12', user_id: 1, name: 'monitor', description: '', internal: false, image: 'gone.png', default_priority: 0, ...created, last_used: null, sort_key: Buffer.from('a0') },
      { id: 3, token: aliceApp.publicForm, user_id: 2, name: 'alice app', description: 'hers', internal: false, image: '', default_priority: 7, ...created, last_used: null, sort_key: Buffer.from('a0') },
      { id: 5, token: 'AechoInternal01', user_id: 1, name: 'echo', description: 'auto generated application for github.com/flow/plugins/echo', internal: true, image: '', default_priority: 0, ...created, last_used: null, sort_key: Buffer.from('a2') },
      { id: 6, token: 'AorphanApp00001', user_id: 9, name: 'orphan', description: '', internal: false, image: '', default_priority: 0, ...created, last_used: null, sort_key: Buffer.from('a0') },
    ],
    clients: [
      { id: 1, token: 'CadminPhone.123', user_id: 1, name: 'admin phone', last_used: at('2025-06-02T09:00:00Z'), ...created, ...(v3 ? { elevated_until: null, expires_after_inactivity_seconds: 0, expires_at: null } : {}) },
      { id: 3, token: aliceClient.publicForm, user_id: 2, name: 'alice phone', last_used: null, ...created, ...(v3 ? { elevated_until: null, expires_after_inactivity_seconds: 0, expires_at: null } : {}) },
      { id: 4, token: 'CorphanClient01', user_id: 9, name: 'orphan', last_used: null, ...created, ...(v3 ? { elevated_until: null, expires_after_inactivity_seconds: 0, expires_at: null } : {}) },
    ],
    messages: [],
    plugin_confs: [
      { id: 1, user_id: 1, module_path: 'github.com/flow/plugins/echo', token: 'PechoAdminToken1234567x', application_id: 5, enabled: true, ...created, config: Buffer.from('magic_string: carried from gotify\n'), storage: Buffer.from('{"calledTimes":41}') },
      { id: 2, user_id: 2, module_path: 'github.com/flow/plugins/echo', token: 'PechoAliceToken12345678', application_id: 0, enabled: false, ...created, config: Buffer.from('magic_string: alice\n'), storage: null },
    ],
  };
  if (v3) {
    rows.clients!.push({
      id: 5, token: expired.publicForm, user_id: 1, name: 'old browser session', ...created, last_used: at('2025-01-01T11:00:00Z'),
      elevated_until: null, expires_after_inactivity_seconds: 604800, expires_at: at('2025-01-08T11:00:00Z'),
    });
  }
  const messageIds = { admin: [] as number[], alice: [] as number[] };
  let id = 0;
  for (let i = 0; i < messages; i++) {
    id += i % 7 === 3 ? 2 : 1; // gaps: deleted messages
    const app = i % 3 === 2 ? 3 : i % 5 === 4 ? 2 : 1;
    const extras = i % 4 === 0 ? Buffer.from(JSON.stringify({ 'client::display': { contentType: 'text/markdown' }, n: i })) : null;
    rows.messages!.push({ id, application_id: app, message: `message ${i}`, title: i % 6 === 0 ? '' : `title ${i}`, priority: i % 11, extras, date: new Date(Date.UTC(2025, 0, 1) + i * 60_000 + 0.25) });
    (app === 3 ? messageIds.alice : messageIds.admin).unshift(id);
  }
  rows.messages!.push({ id: ++id, application_id: 6, message: 'of a deleted app', title: '', priority: 0, extras: null, date: new Date() });
  rows.messages!.push({ id: ++id, application_id: 1, message: 'broken extras', title: 't', priority: 1, extras: Buffer.from('{not json'), date: new Date(Date.UTC(2025, 5, 1)) });
  messageIds.admin.unshift(id);
  return {
    rows,
    images: { 'img-backup.png': PNG },
    held: { adminClient: 'CadminPhone.123', aliceClient: aliceClient.privateForm, backupApp: 'AbackupToken.1x', aliceApp: aliceApp.privateForm, expiredSession: expired.privateForm },
    messageIds,
    echoStorage: Buffer.from('{"calledTimes":41}'),
  };
}

/** mattn/go-sqlite3's text for a time.Time in UTC ("2006-01-02 15:04:05.999999999-07:00"). */
const sqliteTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '+00:00');
/** MySQL DATETIME(3) text in UTC (Gotify's DSN default loc=UTC). */
const mysqlTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

function toParam(d: SqlDialect, v: Value): unknown {
  if (v instanceof Date) return d === 'sqlite3' ? sqliteTime(v) : d === 'mysql' ? mysqlTime(v) : v;
  if (typeof v === 'boolean') return d === 'postgres' ? v : v ? 1 : 0;
  return v;
}

/** INSERT statements (with placeholders) and their parameters for `rows`. */
export function insertStatements(d: SqlDialect, rows: Rows): { sql: string; params: unknown[] }[] {
  const out: { sql: string; params: unknown[] }[] = [];
  for (const [table, list] of Object.entries(rows)) {
    for (const row of list) {
      const cols = Object.keys(row);
      const ph = cols.map((_, i) => (d === 'postgres' ? `$${i + 1}` : '?')).join(',');
      out.push({ sql: `INSERT INTO ${q(d, table)} (${cols.map((c) => q(d, c)).join(',')}) VALUES (${ph})`, params: cols.map((c) => toParam(d, row[c]!)) });
    }
  }
  return out;
}

/** Gotify's SQLite database at `file` (and its images/ folder beside it). */
export async function writeGotifySqlite(file: string, version: GotifyVersion, fx: GotifyFixture): Promise<void> {
  await mkdir(path.join(path.dirname(file), 'images'), { recursive: true });
  for (const [name, data] of Object.entries(fx.images)) await writeFile(path.join(path.dirname(file), 'images', name), data);
  const db = new Database(file);
  try {
    for (const sql of gotifySchemaSql('sqlite3', version)) db.exec(sql);
    const tx = db.transaction(() => {
      for (const s of insertStatements('sqlite3', fx.rows)) db.prepare(s.sql).run(...s.params);
    });
    tx();
  } finally {
    db.close();
  }
}
