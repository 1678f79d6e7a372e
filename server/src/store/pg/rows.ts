import type { ApplicationRecord } from '../../model/application.js';
import type { ClientRecord } from '../../model/client.js';
import type { MessageRecord } from '../../model/message.js';
import type { PluginConfRecord } from '../../model/plugin-conf.js';
import type { UserRecord } from '../../model/user.js';

// Rows as the schema (`migrations.ts`) has them, and the records services know. Each table is
// one list of its record's fields, from which its columns, the reading of a row and the values
// of an INSERT all follow: a column is its field's name in snake_case (`userId` → `user_id`).
// Optional record fields are absent, not null, when the column is NULL, exactly as LevelDB's
// JSON had them.

/** A row as the driver returns it. */
type DbRow = Record<string, unknown>;

/**
 * One field: its name, then how its column holds it (`:time`: a timestamp, an ISO string in the
 * record; `:json`: JSON text), then `?` when NULL means the field is absent.
 */
type FieldSpec<T> = `${keyof T & string}${'' | ':time' | ':json'}${'' | '?'}`;

/** A table of records with a serial id: what `cached-table.ts` and `migrate/` read and write them with. */
export interface PgTableShape<T> {
  name: string;
  /** Every column, `id` first, in the order `values` gives them. */
  columns: string;
  /** The sequence new ids come from. */
  sequence: string;
  recordOf(row: DbRow): T;
  values(rec: T): unknown[];
}

const snakeCase = (field: string) => field.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

function pgTable<T>(name: string, sequence: string, specs: FieldSpec<T>[]): PgTableShape<T> {
  const fields = specs.map((spec) => {
    const [, field, kind, optional] = /^(\w+)(?::(time|json))?(\?)?$/.exec(spec)!;
    return { field: field!, column: snakeCase(field!), kind, optional: optional === '?' };
  });
  return {
    name,
    sequence,
    columns: fields.map((f) => f.column).join(', '),
    recordOf(row) {
      const rec: DbRow = {};
      for (const { field, column, kind, optional } of fields) {
        const v = row[column];
        if (v === null && optional) continue;
        rec[field] = v === null ? null : kind === 'time' ? (v as Date).toISOString() : kind === 'json' ? JSON.parse(v as string) : v;
      }
      return rec as T;
    },
    values(rec) {
      return fields.map(({ field, kind }) => {
        const v = (rec as DbRow)[field];
        return v === undefined ? null : kind === 'json' ? JSON.stringify(v) : v;
      });
    },
  };
}

export const USERS = pgTable<UserRecord>('users', 'user_id_seq', ['id', 'name', 'passHash', 'admin', 'oidcId?']);

export const CLIENTS = pgTable<ClientRecord>('clients', 'client_id_seq', [
  'id', 'userId', 'token', 'name', 'lastUsed:time', 'createdAt:time?', 'expiresAfterInactivitySeconds?', 'elevatedUntil:time?',
]);

export const APPLICATIONS = pgTable<ApplicationRecord>('applications', 'application_id_seq', [
  'id', 'userId', 'token', 'name', 'description', 'internal', 'image', 'defaultPriority', 'lastUsed:time', 'sortKey', 'retention:json?',
]);

export const MESSAGES = pgTable<MessageRecord>('messages', 'message_id_seq', ['id', 'appId', 'userId', 'message', 'title', 'priority', 'extras:json?', 'date:time']);

export const PLUGIN_CONFS = pgTable<PluginConfRecord>('plugin_confs', 'pluginconf_id_seq', [
  'id', 'userId', 'modulePath', 'token', 'applicationId', 'enabled', 'config', 'createdAt:time',
]);

export const { columns: USER_COLUMNS, values: userValues } = USERS;
export const { columns: CLIENT_COLUMNS, values: clientValues } = CLIENTS;
export const { columns: APPLICATION_COLUMNS, values: applicationValues } = APPLICATIONS;
export const { columns: PLUGIN_CONF_COLUMNS, values: pluginConfValues } = PLUGIN_CONFS;
export const { columns: MESSAGE_COLUMNS, recordOf: messageOf, values: messageValues } = MESSAGES;
/** A message row as `messages` returns it (the queries of `message.ts`). */
export type MessageRow = { id: number; app_id: number; user_id: number; message: string; title: string; priority: number; extras: string | null; date: Date };

/** `$1, $2, …, $n` for an INSERT of `n` columns. */
export const placeholders = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');
