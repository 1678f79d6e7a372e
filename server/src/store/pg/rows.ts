import type { ApplicationRecord } from '../../model/application.js';
import type { ClientRecord } from '../../model/client.js';
import type { MessageRecord } from '../../model/message.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { UserRecord } from '../../model/user.js';

// Rows as the schema (`migrations.ts`) has them, and the records services know. Optional record
// fields are absent, not null, when the column is NULL, exactly as LevelDB's JSON had them.

/** A table of records with a serial id: what `cached-table.ts` needs to read and insert them. */
export interface PgTableShape<T, Row> {
  name: string;
  /** Every column, `id` first, in the order `values` gives them. */
  columns: string;
  /** The sequence new ids come from. */
  sequence: string;
  recordOf(row: Row): T;
  values(rec: T): unknown[];
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export const USER_COLUMNS = 'id, name, pass_hash, admin, oidc_id';
export interface UserRow {
  id: number;
  name: string;
  pass_hash: string;
  admin: boolean;
  oidc_id: string | null;
}
export function userOf(r: UserRow): UserRecord {
  const u: UserRecord = { id: r.id, name: r.name, passHash: r.pass_hash, admin: r.admin };
  if (r.oidc_id !== null) u.oidcId = r.oidc_id;
  return u;
}
export const userValues = (u: UserRecord): unknown[] => [u.id, u.name, u.passHash, u.admin, u.oidcId ?? null];
export const USERS: PgTableShape<UserRecord, UserRow> = { name: 'users', columns: USER_COLUMNS, sequence: 'user_id_seq', recordOf: userOf, values: userValues };

export const CLIENT_COLUMNS = 'id, user_id, token, name, last_used, created_at, expires_after_inactivity_seconds, elevated_until';
export interface ClientRow {
  id: number;
  user_id: number;
  token: string;
  name: string;
  last_used: Date | null;
  created_at: Date | null;
  expires_after_inactivity_seconds: number | null;
  elevated_until: Date | null;
}
export function clientOf(r: ClientRow): ClientRecord {
  const c: ClientRecord = { id: r.id, userId: r.user_id, token: r.token, name: r.name, lastUsed: iso(r.last_used) };
  if (r.created_at !== null) c.createdAt = iso(r.created_at)!;
  if (r.expires_after_inactivity_seconds !== null) c.expiresAfterInactivitySeconds = r.expires_after_inactivity_seconds;
  if (r.elevated_until !== null) c.elevatedUntil = iso(r.elevated_until);
  return c;
}
/** Column values of a client in CLIENT_COLUMNS order. */
export const clientValues = (c: ClientRecord): unknown[] => [
  c.id,
  c.userId,
  c.token,
  c.name,
  c.lastUsed,
  c.createdAt ?? null,
  c.expiresAfterInactivitySeconds ?? null,
  c.elevatedUntil ?? null,
];
export const CLIENTS: PgTableShape<ClientRecord, ClientRow> = { name: 'clients', columns: CLIENT_COLUMNS, sequence: 'client_id_seq', recordOf: clientOf, values: clientValues };

export const APPLICATION_COLUMNS = 'id, user_id, token, name, description, internal, image, default_priority, last_used, sort_key, retention';
export interface ApplicationRow {
  id: number;
  user_id: number;
  token: string;
  name: string;
  description: string;
  internal: boolean;
  image: string;
  default_priority: number;
  last_used: Date | null;
  sort_key: string;
  retention: string | null;
}
export function applicationOf(r: ApplicationRow): ApplicationRecord {
  const a: ApplicationRecord = {
    id: r.id,
    userId: r.user_id,
    token: r.token,
    name: r.name,
    description: r.description,
    internal: r.internal,
    image: r.image,
    defaultPriority: r.default_priority,
    lastUsed: iso(r.last_used),
    sortKey: r.sort_key,
  };
  if (r.retention !== null) a.retention = JSON.parse(r.retention) as ApplicationRecord['retention'];
  return a;
}
export const applicationValues = (a: ApplicationRecord): unknown[] => [
  a.id,
  a.userId,
  a.token,
  a.name,
  a.description,
  a.internal,
  a.image,
  a.defaultPriority,
  a.lastUsed,
  a.sortKey,
  a.retention === undefined ? null : JSON.stringify(a.retention),
];
export const APPLICATIONS: PgTableShape<ApplicationRecord, ApplicationRow> = {
  name: 'applications',
  columns: APPLICATION_COLUMNS,
  sequence: 'application_id_seq',
  recordOf: applicationOf,
  values: applicationValues,
};

export const MESSAGE_COLUMNS = 'id, app_id, user_id, message, title, priority, extras, date';
export interface MessageRow {
  id: number;
  app_id: number;
  user_id: number;
  message: string;
  title: string;
  priority: number;
  extras: string | null;
  date: Date;
}
export function messageOf(r: MessageRow): MessageRecord {
  const m: MessageRecord = { id: r.id, appId: r.app_id, userId: r.user_id, message: r.message, title: r.title, priority: r.priority, date: r.date.toISOString() };
  if (r.extras !== null) m.extras = JSON.parse(r.extras) as Record<string, unknown>;
  return m;
}
export const messageValues = (m: MessageRecord): unknown[] => [
  m.id,
  m.appId,
  m.userId,
  m.message,
  m.title,
  m.priority,
  m.extras === undefined ? null : JSON.stringify(m.extras),
  m.date,
];

export const PLUGIN_CONF_COLUMNS = 'id, user_id, module_path, token, application_id, enabled, config, created_at';
export interface PluginConfRow {
  id: number;
  user_id: number;
  module_path: string;
  token: string;
  application_id: number;
  enabled: boolean;
  config: string;
  created_at: Date;
}
export const pluginConfOf = (r: PluginConfRow): PluginConfRecord => ({
  id: r.id,
  userId: r.user_id,
  modulePath: r.module_path,
  token: r.token,
  applicationId: r.application_id,
  enabled: r.enabled,
  config: r.config,
  createdAt: r.created_at.toISOString(),
});
export const pluginConfValues = (p: PluginConfRecord): unknown[] => [p.id, p.userId, p.modulePath, p.token, p.applicationId, p.enabled, p.config, p.createdAt];
export const PLUGIN_CONFS: PgTableShape<PluginConfRecord, PluginConfRow> = {
  name: 'plugin_confs',
  columns: PLUGIN_CONF_COLUMNS,
  sequence: 'pluginconf_id_seq',
  recordOf: pluginConfOf,
  values: pluginConfValues,
};

/** `$1, $2, …, $n` for an INSERT of `n` columns. */
export const placeholders = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');
